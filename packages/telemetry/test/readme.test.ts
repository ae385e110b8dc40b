// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints the metric line', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toMatch(/"scope":"access","message":"connection complete","src.addr":"10.0.0.1:4000"/);
  expect(out).toMatch(/^istio_tcp_connections_opened_total\{reporter="source",source_workload="client".*\} 1$/m);
});
