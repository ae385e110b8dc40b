import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('CSR asks for URI:spiffe://cluster.local/ns/default/sa/web');
  expect(out).toContain('leaf: URI:spiffe://cluster.local/ns/default/sa/web | issued by root: true true');
});
