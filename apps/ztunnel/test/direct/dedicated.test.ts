// PROXY_MODE=dedicated: one ztunnel per workload (sidecar-like). Its outbound traffic is always that
// workload's, whatever the local client address; it fetches only that workload's certificate, on use.
import type { Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually } from '../helpers/observe.ts';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.14.2"], protocol: HBONE, node: node-d}
- {uid: c//Pod/default/server, name: server, namespace: default, serviceAccount: server, trustDomain: cluster.local, workloadIps: ["127.0.14.1"], protocol: HBONE, node: node-s}
`;

let sidecar: StartedZtunnel;
let serverNode: StartedZtunnel;
let app: Server;
beforeAll(async () => {
  app = await startEchoServer('127.0.14.1', 8080);
  serverNode = await startZtunnel({ NODE_NAME: 'node-s', LOCAL_XDS: yaml });
  sidecar = await startZtunnel({
    PROXY_MODE: 'dedicated',
    PROXY_WORKLOAD_INFO: 'default/client/client',
    LOCAL_XDS: yaml,
    OUTBOUND_CAPTURE_ADDR: '127.0.0.1:0', // where capture works (root), not the host's own 15001
  });
});
afterAll(async () => {
  await Promise.all([sidecar?.ztunnel.drain(200), serverNode?.ztunnel.drain(200)]);
  app?.close();
});

it('serves only its workload and sends as that workload from any local address', async () => {
  // No source bind: a dedicated ztunnel's traffic is its workload's.
  const socket = await socksConnect({ proxy: sidecar.socks, target: { host: '127.0.14.1', port: 8080 } });
  expect(await roundTrip(socket, 'sidecar')).toBe('sidecarsidecar');
  const line = await eventually(
    async () =>
      serverNode.logs().find((entry) => entry['message'] === 'connection complete' && entry['direction'] === 'inbound'),
    (found) => found !== undefined,
  );
  expect(line).toMatchObject({
    'src.identity': 'spiffe://cluster.local/ns/default/sa/client',
    'dst.identity': 'spiffe://cluster.local/ns/default/sa/server',
  });
  const dump = (await (await sidecar.admin('/config_dump')).json()) as {
    certificates: { identity: string }[];
    workloadState: Record<string, unknown>;
  };
  expect(dump.certificates.map((entry) => entry.identity)).toEqual(['spiffe://cluster.local/ns/default/sa/client']);
  expect(Object.keys(dump.workloadState)).toEqual(['c//Pod/default/client']);
});
