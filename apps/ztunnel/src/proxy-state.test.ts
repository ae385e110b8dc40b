import { Writable } from 'node:stream';
import { Logging, ProxyMetrics, Readiness } from '@ambient-ts/telemetry';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { ProxyState } from './proxy-state.ts';

const LOCAL_XDS = `
workloads:
- uid: cluster1//v1/Pod/default/client
  name: client
  namespace: default
  workloadIps: ["127.0.3.2"]
  protocol: HBONE
  node: node-a
`;

describe('ProxyState.localWorkloadByIp', () => {
  it('finds a local workload by the IPv4-mapped address a dual-stack listener reports', async () => {
    const config = parseConfig({
      PROXY_MODE: 'node',
      NODE_NAME: 'node-a',
      FAKE_CA: 'true',
      XDS_ADDRESS: '',
      LOCAL_XDS,
    });
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const state = new ProxyState(config, {
      logging: new Logging({ destination: silent }),
      metrics: new ProxyMetrics({ component: 'ztunnel', version: 'test' }),
      readiness: new Readiness(),
    });
    await state.start();
    expect(state.localWorkloadByIp('127.0.3.2')?.name).toBe('client');
    expect(state.localWorkloadByIp('::ffff:127.0.3.2')?.name).toBe('client');
    expect(state.localWorkloadByIp('127.0.3.9')).toBeUndefined();
  });
});
