// examples/localhost.yaml loads into a running ztunnel (the quick way to try it without a control plane).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseLocalConfig } from '@ambient-ts/discovery';

it('examples/localhost.yaml is valid static config', () => {
  const file = join(import.meta.dirname, '../../../examples/localhost.yaml');
  const config = parseLocalConfig(readFileSync(file, 'utf8'), file);
  expect(config.workloads.map((workload) => [workload.name, workload.protocol])).toEqual([
    ['local', 'HBONE'],
    ['local-tcp', 'TCP'],
  ]);
  expect(config.services.map((service) => service.hostname)).toEqual(['example.com', 'example2.com']);
  expect(config.policies.map((policy) => `${policy.namespace}/${policy.name}`)).toEqual(['default/block-9999']);
});
