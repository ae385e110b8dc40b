// The README example must run as written and print what the README says it prints.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example authenticates a node proxy, decides, and signs', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out.trim().split('\n')).toEqual([
    'caller spiffe://cluster.local/ns/istio-system/sa/ztunnel on node-a',
    'spiffe://cluster.local/ns/default/sa/web allowed (workload-on-node)',
    'spiffe://cluster.local/ns/data/sa/db refused: DENIED_NOT_ON_NODE',
    'issued URI:spiffe://cluster.local/ns/default/sa/web',
  ]);
});
