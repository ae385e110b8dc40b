// Server drain and close (users-reliability B8 row 33), client keepalive (row 32), option validation.
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createHboneServer, dialHbone } from '../src/index.ts';
import { eventually, newPool, onCleanup, readAll, startServer } from './fixtures.ts';
import { CLIENT_ID, connectOptions, pki, SERVER_ID, serverCreds } from './pki.ts';
import { Flag, FrameReader, FrameType, PREFACE, frame, settings } from './h2-frames.ts';

async function refused(port: number): Promise<boolean> {
  const socket = netConnect({ host: '127.0.0.1', port });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('server drain and close', () => {
  it('drain: stops listening, GOAWAYs, lets open tunnels finish, then closes', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    const drained = server.drain(30_000);
    expect(server.state).toBe('draining');
    expect(await refused(port)).toBe(true);
    // The client got GOAWAY: its connection left the pool but the tunnel still works.
    await eventually(() => pool.stats().keys === 0, 'GOAWAY to reach the pool');
    tunnel.stream.end('after goaway');
    expect((await readAll(tunnel.stream)).toString()).toBe('after goaway');
    await drained;
    expect(server.state).toBe('closed');
    expect(server.stats().connections).toBe(0);
  });

  it('drain: resets tunnels still open at the deadline', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    const closed = new Promise((resolve) => tunnel.stream.once('close', resolve));
    await server.drain(50);
    await closed;
    expect(server.stats()).toMatchObject({ connections: 0, tunnels: 0 });
  });

  it('close: everything ends now and the server cannot listen again', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    const closed = new Promise((resolve) => tunnel.stream.once('close', resolve));
    await server.close();
    await closed;
    expect(await refused(port)).toBe(true);
    await expect(server.listen({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'SERVER_CLOSED' });
  });

  it('validates its options', () => {
    expect(() => createHboneServer({} as never)).toThrow(/credentials/);
    expect(() =>
      createHboneServer({ credentials: () => serverCreds, onConnect: () => {}, http2: { maxFrameSize: 1 } }),
    ).toThrow(/maxFrameSize/);
    expect(() =>
      createHboneServer({ credentials: () => serverCreds, onConnect: () => {}, keepalive: { intervalMs: -1 } }),
    ).toThrow(/intervalMs/);
  });
});

describe('client keepalive', () => {
  it('closes a connection whose server stops answering PINGs', async () => {
    // A server that completes the HTTP/2 handshake and then goes silent.
    const pings: number[] = [];
    const server = createTlsServer({
      cert: serverCreds.certChainPem,
      key: serverCreds.privateKeyPem,
      ALPNProtocols: ['h2'],
    });
    server.on('secureConnection', (socket) => {
      const reader = new FrameReader();
      let prefaceSeen = false;
      reader.onFrame = (f) => {
        if (f.type === FrameType.SETTINGS && !(f.flags & Flag.ACK))
          socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
        if (f.type === FrameType.PING && !(f.flags & Flag.ACK)) pings.push(Date.now());
      };
      socket.on('data', (data: Buffer) => {
        if (!prefaceSeen) {
          prefaceSeen = true;
          data = data.subarray(PREFACE.length);
          socket.write(settings([[0x3, 100]]));
        }
        reader.push(data);
      });
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => void server.close());
    const port = (server.address() as { port: number }).port;
    const connection = await dialHbone({
      address: { host: '127.0.0.1', port },
      credentials: pki.creds(CLIENT_ID),
      expect: { kind: 'identities', identities: [SERVER_ID] },
      keepalive: { intervalMs: 50, timeoutMs: 100 },
    });
    expect(connection.state).toBe('open');
    await once(connection, 'close');
    expect(connection.state).toBe('closed');
    expect(pings.length).toBeGreaterThan(0);
  });
});
