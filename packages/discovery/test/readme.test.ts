// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('workloads 1 services 1');
  expect(out).toContain('hbone 10.0.0.7:8080 spiffe://cluster.local/ns/default/sa/default');
  expect(out).toContain('{"name":"p","namespace":"ns","action":"DENY"}');
});
