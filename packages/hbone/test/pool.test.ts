// The client pool (facts §1.7): key, one dial per key, stream limits, idle release, GOAWAY and broken
// connections, drain.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  dialHbone,
  HboneError,
  type ConnectRequest,
  type HboneTunnel,
  type SocketFactory,
  type SocketTarget,
} from '../src/index.ts';
import { echo, eventually, newPool, readAll, startServer, startTcp } from './fixtures.ts';
import { connectOptions, pki, SERVER_ID, serverCreds } from './pki.ts';

async function roundTrip(tunnel: HboneTunnel, text = 'ping'): Promise<string> {
  tunnel.stream.end(text);
  return (await readAll(tunnel.stream)).toString();
}

describe('HbonePool', () => {
  it('dials once per key, even for many concurrent tunnels', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const tunnels = await Promise.all(Array.from({ length: 20 }, () => pool.connect(connectOptions(pki, port))));
    expect(pool.stats()).toMatchObject({ dials: 1, connections: 1, activeStreams: 20 });
    expect(server.stats().connections).toBe(1);
    expect(await Promise.all(tunnels.map((tunnel, i) => roundTrip(tunnel, `t${i}`)))).toEqual(
      tunnels.map((_, i) => `t${i}`),
    );
    await roundTrip(await pool.connect(connectOptions(pki, port)));
    expect(pool.stats().dials).toBe(1);
  });

  it('keys on source identity, expected identities, dialled address and source IP', async () => {
    const remotes: string[] = [];
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request: ConnectRequest) => {
        remotes.push(request.remote.address);
        echo(request);
      },
    });
    const pool = newPool();
    const other = 'spiffe://cluster.local/ns/client/sa/other';
    const variants = [
      connectOptions(pki, port),
      connectOptions(pki, port, { expectedIdentities: [SERVER_ID, 'spiffe://cluster.local/ns/x/sa/svc'] }),
      connectOptions(pki, port, { sourceIp: '127.0.0.2' }),
      connectOptions(pki, port, { credentials: pki.creds(other), sourceIdentity: other }),
      connectOptions(pki, port, { authority: '10.9.9.9:1' }),
    ];
    for (const options of variants) expect(await roundTrip(await pool.connect(options))).toBe('ping');
    // The authority is not part of the key: the last one reused the first connection.
    expect(pool.stats()).toMatchObject({ dials: 4, keys: 4 });
    expect(remotes).toContain('127.0.0.2');
  });

  it('creates every TCP socket through its socketFactory (source IP included), dialHbone too', async () => {
    const remotes: string[] = [];
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request: ConnectRequest) => {
        remotes.push(request.remote.address);
        echo(request);
      },
    });
    const targets: SocketTarget[] = [];
    // Stands in for a pod's namespace: the factory decides where the socket comes from (here 127.0.0.3).
    const factory: SocketFactory = (target) => {
      targets.push(target);
      return connect({ host: target.host, port: target.port, localAddress: '127.0.0.3' });
    };
    const pool = newPool({ socketFactory: factory });
    expect(await roundTrip(await pool.connect(connectOptions(pki, port, { sourceIp: '127.0.0.2' })))).toBe('ping');
    expect(targets).toEqual([{ host: '127.0.0.1', port, localAddress: '127.0.0.2' }]);
    expect(remotes).toEqual(['127.0.0.3']);
    const options = connectOptions(pki, port);
    const connection = await dialHbone({
      address: options.address,
      credentials: options.credentials,
      expect: { kind: 'identities', identities: options.expectedIdentities },
      socketFactory: factory,
    });
    connection.destroy();
    expect(targets[1]).toEqual({ host: '127.0.0.1', port });
  });

  it('reports a socketFactory that throws as a CONNECT_FAILED dial', async () => {
    const pool = newPool({
      socketFactory: () => {
        throw new Error('namespace is gone');
      },
    });
    await expect(pool.connect(connectOptions(pki, 1))).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringContaining('namespace is gone'),
    });
  });

  it('refuses credentials that do not carry the source identity', async () => {
    const { port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    await expect(
      pool.connect(connectOptions(pki, port, { sourceIdentity: 'spiffe://cluster.local/ns/x/sa/not-me' })),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('opens a new connection when one reaches its stream limit, and reuses it once streams end', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool({ maxStreamsPerConnection: 3 });
    const tunnels = await Promise.all(Array.from({ length: 7 }, () => pool.connect(connectOptions(pki, port))));
    expect(pool.stats()).toMatchObject({ dials: 3, connections: 3 });
    expect(server.stats().connections).toBe(3);
    await Promise.all(tunnels.map((tunnel) => roundTrip(tunnel)));
    await eventually(() => pool.stats().activeStreams === 0, 'streams to close');
    await roundTrip(await pool.connect(connectOptions(pki, port)));
    expect(pool.stats().dials).toBe(3);
  });

  it("respects the server's SETTINGS_MAX_CONCURRENT_STREAMS when it is below the pool limit", async () => {
    const { port } = await startServer({ credentials: () => serverCreds, http2: { maxConcurrentStreams: 2 } });
    const pool = newPool();
    const tunnels = await Promise.all(Array.from({ length: 5 }, () => pool.connect(connectOptions(pki, port))));
    expect(pool.stats().dials).toBe(3);
    await Promise.all(tunnels.map((tunnel) => roundTrip(tunnel)));
  });

  it('releases connections that were not picked for idleReleaseMs', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool({ idleReleaseMs: 50 });
    const held = await pool.connect(connectOptions(pki, port));
    // Not picked again: released from the pool, but kept open while its stream lives.
    await eventually(() => pool.stats().keys === 0, 'release from the pool');
    expect(pool.stats().connections).toBe(1);
    expect(await roundTrip(held)).toBe('ping');
    await eventually(() => pool.stats().connections === 0 && server.stats().connections === 0, 'close');
  });

  it('never reuses a connection after GOAWAY; its open tunnels keep working', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const open = await pool.connect(connectOptions(pki, port));
    const draining = server.drain(30_000);
    const error = await pool.connect(connectOptions(pki, port)).catch((e: unknown) => e);
    // A new dial was attempted (the draining server no longer listens) instead of reusing the connection.
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    expect(pool.stats().dials).toBe(2);
    expect(await roundTrip(open, 'still flowing')).toBe('still flowing');
    await draining;
  });

  it('drops broken connections and dials a fresh one', async () => {
    const first = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    await roundTrip(await pool.connect(connectOptions(pki, first.port)));
    await first.server.close();
    await eventually(() => pool.stats().connections === 0, 'broken connection dropped');
    const second = await startServer({ credentials: () => serverCreds });
    expect(await roundTrip(await pool.connect(connectOptions(pki, second.port)))).toBe('ping');
  });

  it('fails every waiter of a failed dial with the same typed error, after one attempt', async () => {
    const { server, port } = await startTcp(() => {});
    server.close();
    const pool = newPool();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => pool.connect(connectOptions(pki, port))));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    for (const result of results) {
      expect(HboneError.isHboneError((result as PromiseRejectedResult).reason)).toBe(true);
      expect((result as PromiseRejectedResult).reason.code).toBe('CONNECT_FAILED');
    }
    expect(pool.stats().dials).toBe(1);
  });

  it('times out a dial whose peer never completes TLS', async () => {
    const { port } = await startTcp(() => {});
    const pool = newPool({ connectTimeoutMs: 200 });
    const error = await pool.connect(connectOptions(pki, port)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TLS_HANDSHAKE_FAILED' });
    expect((error as Error).message).toContain('timed out');
  });

  it('drains: refuses new tunnels, lets open ones finish, then resolves', async () => {
    const { port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const open = await pool.connect(connectOptions(pki, port));
    const drained = pool.drain(30_000);
    await expect(pool.connect(connectOptions(pki, port))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    expect(await roundTrip(open, 'last words')).toBe('last words');
    await drained;
    expect(pool.stats().connections).toBe(0);
  });

  it('drain closes tunnels that outlive the deadline', async () => {
    const { port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const open = await pool.connect(connectOptions(pki, port));
    const closed = new Promise((resolve) => open.stream.once('close', resolve));
    await pool.drain(50);
    await closed;
    expect(pool.stats().connections).toBe(0);
  });

  it('validates its inputs', async () => {
    const pool = newPool();
    expect(() => newPool({ maxStreamsPerConnection: 0 })).toThrow(/maxStreamsPerConnection/);
    expect(() => newPool({ idleReleaseMs: 1.5 })).toThrow(/idleReleaseMs/);
    expect(() => newPool({ connectTimeoutMs: -1 })).toThrow(/connectTimeoutMs/);
    await expect(pool.connect(connectOptions(pki, 1, { expectedIdentities: [] }))).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('expectedIdentities'),
    });
    await expect(pool.connect(connectOptions(pki, 1, { authority: '' }))).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('authority'),
    });
    // Refused before anything was keyed or dialled.
    expect(pool.stats()).toEqual({ keys: 0, connections: 0, activeStreams: 0, dials: 0 });
  });

  it('reports its own lifecycle: open → draining → closed', async () => {
    const { port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const open = await pool.connect(connectOptions(pki, port));
    expect(pool.state).toBe('open');
    const drained = pool.drain(30_000);
    expect(pool.state).toBe('draining');
    expect(await roundTrip(open, 'bye')).toBe('bye');
    await drained;
    expect(pool.state).toBe('closed');
    const closing = newPool();
    await closing.close();
    expect(closing.state).toBe('closed');
    await expect(closing.connect(connectOptions(pki, port))).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});
