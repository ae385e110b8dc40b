// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('GET /hello -> 200 echo-v1 saw GET /hello');
  expect(out).toContain('POST /hello -> 403 RBAC: access denied');
  expect(out).toContain('istio_requests_total response_code=200 1');
  expect(out).toContain('istio_requests_total response_code=403 1');
});
