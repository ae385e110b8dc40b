// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('workloads 1 services 1 policies 1');
  expect(out).toContain('hbone 10.0.0.7:8080 spiffe://cluster.local/ns/default/sa/default');
  expect(out).toContain(
    'NACK default/deny-lab: rules[0].clauses[0].matches[0].sourceIps[0].address: expected 4 or 16 address bytes, got 3',
  );
  expect(out).toContain('allowed false by default/deny-lab');
});
