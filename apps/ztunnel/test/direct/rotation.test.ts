// Certificate rotation: a workload certificate is renewed at half-life (visible in /config_dump) while a
// live connection keeps flowing, and traffic keeps working afterwards.
import type { Server } from 'node:net';
import { once } from 'node:events';
import { LocalCa } from '@ambient-ts/certs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually } from '../helpers/observe.ts';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.13.2"], protocol: HBONE, node: node-r}
- {uid: c//Pod/default/server, name: server, namespace: default, serviceAccount: server, trustDomain: cluster.local, workloadIps: ["127.0.13.1"], protocol: HBONE, node: node-r}
`;

let node: StartedZtunnel;
let app: Server;
beforeAll(async () => {
  app = await startEchoServer('127.0.13.1', 8080, 'echo');
  // Four-second certificates: renewed at half-life, about two seconds in.
  node = await startZtunnel({ NODE_NAME: 'node-r', LOCAL_XDS: yaml }, await LocalCa.create({ ttlSeconds: 4 }));
});
afterAll(async () => {
  await node?.ztunnel.drain(200);
  app?.close();
});

async function serverSerial(): Promise<string | undefined> {
  const dump = (await (await node.admin('/config_dump')).json()) as {
    certificates: { identity: string; certChain: { serialNumber: string }[] }[];
  };
  return dump.certificates.find((entry) => entry.identity.endsWith('/sa/server'))?.certChain[0]?.serialNumber;
}

it('rotates certificates without disturbing a live connection', async () => {
  const socket = await socksConnect({
    proxy: node.socks,
    target: { host: '127.0.13.1', port: 8080 },
    localAddress: '127.0.13.2',
  });
  const echo = async (text: string) => {
    socket.write(text);
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    return chunk.toString();
  };
  expect(await echo('before')).toBe('before');
  const first = await eventually(serverSerial, (serial) => serial !== undefined);
  const second = await eventually(serverSerial, (serial) => serial !== undefined && serial !== first, 8000);
  expect(second).not.toBe(first);
  expect(await echo('after rotation')).toBe('after rotation');
  socket.end();
  const fresh = await socksConnect({
    proxy: node.socks,
    target: { host: '127.0.13.1', port: 8080 },
    localAddress: '127.0.13.2',
  });
  fresh.write('new handshake');
  const [reply] = (await once(fresh, 'data')) as [Buffer];
  expect(reply.toString()).toBe('new handshake');
  fresh.end();
}, 20_000);
