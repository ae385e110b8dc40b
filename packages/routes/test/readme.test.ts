import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toBe(
    [
      'routes.yaml:21: HTTPRoute shop/broken: spec.rules[0].matches[0].path.value: must start with "/", found "no-slash"',
      'canary → cart-v2 via shop/cart-canary.0',
      'redirect 301 http://cart.shop/new/items',
      'weighted → cart-v2, timeout 2000 ms',
      '',
    ].join('\n'),
  );
});
