import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socksConnect } from '../helpers/socks-client.ts';
import { roundTrip, startEchoServer, startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';

const yaml = `
workloads:
- uid: cluster1//v1/Pod/default/server
  name: server
  namespace: default
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["127.0.3.1"]
  protocol: HBONE
  node: node-a
- uid: cluster1//v1/Pod/default/client
  name: client
  namespace: default
  serviceAccount: client
  trustDomain: cluster.local
  workloadIps: ["127.0.3.2"]
  protocol: HBONE
  node: node-a
`;

let started: StartedZtunnel | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await started?.ztunnel.drain(100);
  for (const server of servers.splice(0)) server.close();
});

describe('smoke', () => {
  it('carries bytes client → ztunnel → HBONE → ztunnel → server on one node', async () => {
    servers.push(await startEchoServer('127.0.3.1', 8080));
    started = await startZtunnel({ NODE_NAME: 'node-a', LOCAL_XDS: yaml });
    const socket = await socksConnect({
      proxy: started.socks,
      target: { host: '127.0.3.1', port: 8080 },
      localAddress: '127.0.3.2',
    });
    expect(await roundTrip(socket, 'hello world')).toBe('hello worldhello world');
    const logs = started.logs().filter((line) => line['message'] === 'connection complete');
    console.log(JSON.stringify(logs, null, 1));
    expect(logs).toHaveLength(2);
  });
});
