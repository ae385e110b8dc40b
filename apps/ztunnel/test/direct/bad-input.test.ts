// Bad input reaching a running ztunnel: it is refused with a clear reason and nothing else is disturbed.
import { once } from 'node:events';
import { connect as tcpConnect, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { LocalCa } from '@ambient-ts/certs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { hboneConnect, startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually } from '../helpers/observe.ts';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.12.2"], protocol: HBONE, node: node-bad}
- {uid: c//Pod/default/server, name: server, namespace: default, serviceAccount: server, trustDomain: cluster.local, workloadIps: ["127.0.12.1"], protocol: HBONE, node: node-bad}
`;

let node: StartedZtunnel;
let app: Server;
beforeAll(async () => {
  app = await startEchoServer('127.0.12.1', 8080);
  node = await startZtunnel({ NODE_NAME: 'node-bad', LOCAL_XDS: yaml });
});
afterAll(async () => {
  await node?.ztunnel.drain(200);
  app?.close();
});

const healthy = async () =>
  roundTrip(
    await socksConnect({ proxy: node.socks, target: { host: '127.0.12.1', port: 8080 }, localAddress: '127.0.12.2' }),
    'ok',
  );
const failures = () => node.logs().filter((line) => line['message'] === 'connection failed');

describe('bad input', () => {
  it('an unknown source workload on the SOCKS5 port is refused', async () => {
    await expect(
      socksConnect({ proxy: node.socks, target: { host: '127.0.12.1', port: 8080 }, localAddress: '127.0.12.77' }),
    ).rejects.toMatchObject({ reply: 2 });
    expect(node.logs().some((line) => String(line['message']).includes('unknown source workload'))).toBe(true);
    expect(await healthy()).toBe('okok');
  }, 15_000);

  it('a recursive call to an illegal ztunnel port on loopback is dropped', async () => {
    await expect(
      socksConnect({ proxy: node.socks, target: { host: '127.0.0.1', port: 15008 }, localAddress: '127.0.12.2' }),
    ).rejects.toMatchObject({ reply: 2 });
    expect(failures().some((line) => String(line['error']).includes('15008'))).toBe(true);
  });

  it('plain TCP to 15008 fails the TLS handshake and is logged', async () => {
    const socket = tcpConnect({ host: '127.0.12.1', port: 15008 });
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.end('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    await eventually(
      async () => failures().filter((line) => line['direction'] === 'inbound'),
      (lines) => lines.length > 0,
    );
    expect(await healthy()).toBe('okok');
  });

  it('a client certificate from another root is refused at the handshake', async () => {
    const foreign = await LocalCa.create({ trustDomain: 'cluster.local' });
    await expect(
      hboneConnect({
        identity: 'spiffe://cluster.local/ns/default/sa/client',
        to: { host: '127.0.12.1', port: 15008 },
        authority: '127.0.12.1:8080',
        expect: ['spiffe://cluster.local/ns/default/sa/server'],
        ca: foreign,
      }),
    ).rejects.toThrow();
    expect(await healthy()).toBe('okok');
  });

  it('TLS without a client certificate is refused', async () => {
    const socket = tlsConnect({ host: '127.0.12.1', port: 15008, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('error', (error) => resolve(`error: ${error.message}`));
      socket.once('close', () => resolve('closed'));
      socket.once('secureConnect', () => socket.once('data', () => resolve('data')));
    });
    expect(outcome).not.toBe('data');
    socket.destroy();
  });
});
