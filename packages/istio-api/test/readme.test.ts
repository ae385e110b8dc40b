// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toMatch(/^bytes 0a0864656e792d6c6162/m);
  expect(out).toContain('{"name":"deny-lab","namespace":"default","action":"DENY","rules":[');
  expect(out).toContain('action 1 is DENY - 7 is undefined');
  expect(out).toContain('Match fields: 13');
  expect(out).toContain(
    '"validityDuration":"3600","metadata":{"ImpersonatedIdentity":"spiffe://cluster.local/ns/default/sa/echo"}',
  );
  expect(out).toContain('Authorization.scope: unknown Scope value "CLUSTER"');
});
