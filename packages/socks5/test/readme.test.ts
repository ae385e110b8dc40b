import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('CONNECT domain echo.default.svc.cluster.local:80 from 127.0.0.1');
  expect(out).toContain('echoed: hello');
  expect(out).toContain('SOCKS5 connect failed: refused (policy, TLS, identity or upstream failure)');
});
