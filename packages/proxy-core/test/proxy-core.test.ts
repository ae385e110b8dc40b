// The shared data-path pieces: connect deadline, typed close reasons and what they report, the
// tracker (close once, with the first reason; idle), carry() end to end over real sockets, and labels.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  carry,
  closeReport,
  connectTcp,
  ConnectionTracker,
  notCarried,
  spliceCloseReason,
  workloadLabels,
  workloadTrafficLabels,
  type CloseReason,
} from '../src/index.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer(onConnection).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('connectTcp', () => {
  it('connects with TCP_NODELAY and resolves the socket', async () => {
    const port = await listen((socket) => socket.end('hi'));
    const socket = await connectTcp({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    expect(socket.localAddress).toBe('127.0.0.1');
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('hi');
    socket.destroy();
  });

  it('creates the socket through socketFactory when given one', async () => {
    let remote = '';
    const port = await listen((socket) => {
      remote = socket.remoteAddress ?? '';
      socket.end('hi');
    });
    const targets: unknown[] = [];
    const socket = await connectTcp({
      host: '127.0.0.1',
      port,
      localAddress: '127.0.0.2',
      socketFactory: (target) => {
        targets.push(target);
        return connect({ host: target.host, port: target.port, localAddress: '127.0.0.4' });
      },
    });
    expect(targets).toEqual([{ host: '127.0.0.1', port, localAddress: '127.0.0.2' }]);
    await once(socket, 'data');
    expect(remote).toBe('127.0.0.4');
    socket.destroy();
  });

  it('rejects with what a throwing socketFactory threw', async () => {
    const failure = new Error('namespace is gone');
    await expect(
      connectTcp({
        host: '127.0.0.1',
        port: 1,
        socketFactory: () => {
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
  });

  it('rejects with the socket error when refused', async () => {
    const port = await listen(() => {});
    servers.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(connectTcp({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('gives up after timeoutMs, destroying the socket', async () => {
    const port = await listen(() => {});
    // The deadline passes before the event loop can see the connection complete.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const pending = connectTcp({ host: '127.0.0.1', port, timeoutMs: 50 });
      vi.advanceTimersByTime(50);
      await expect(pending).rejects.toThrow('connection timed out after 50 ms');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('close reasons', () => {
  it('derive the response flag and the access-log error from the kind, never from the message', () => {
    expect(closeReport({ kind: 'policy', message: 'explicitly denied by: ns/p' })).toEqual({
      error: 'explicitly denied by: ns/p',
      flags: 'DENY',
    });
    expect(closeReport({ kind: 'drain', message: 'policy words do not matter here' })).toEqual({
      error: 'policy words do not matter here',
    });
    expect(closeReport({ kind: 'error', message: 'io error: refused', flags: 'CONNECT' })).toEqual({
      error: 'io error: refused',
      flags: 'CONNECT',
    });
    expect(closeReport({ kind: 'error', message: 'broken' })).toEqual({ error: 'broken' });
    expect(closeReport({ kind: 'peer' })).toEqual({});
    expect(closeReport({ kind: 'peer', message: 'client went away' })).toEqual({ error: 'client went away' });
    expect(notCarried({ kind: 'peer' })).toEqual({ requestBytes: 0, responseBytes: 0, reason: { kind: 'peer' } });
  });

  it('map a splice outcome when nobody closed the connection', () => {
    expect(spliceCloseReason({ aToB: 1, bToA: 2, outcome: 'clean' })).toEqual({ kind: 'peer' });
    expect(spliceCloseReason({ aToB: 0, bToA: 0, outcome: 'reset', error: new Error('ECONNRESET') })).toEqual({
      kind: 'peer',
      message: 'ECONNRESET',
    });
    expect(spliceCloseReason({ aToB: 0, bToA: 0, outcome: 'error' })).toEqual({ kind: 'error', message: 'error' });
  });
});

describe('ConnectionTracker', () => {
  it('closes each connection once, with the first reason, and resolves whenIdle when all are gone', async () => {
    const tracker = new ConnectionTracker<{ name: string }>();
    const reasons: string[] = [];
    const doneA = tracker.register({ name: 'a' }, (reason) => reasons.push(`a ${reason.kind}`));
    const doneB = tracker.register({ name: 'b' }, (reason) => reasons.push(`b ${reason.kind}`));
    expect(tracker.list().map((entry) => [entry.name, entry.id])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    const closed = tracker.closeWhere((entry) =>
      entry.name === 'a' ? { kind: 'policy', message: 'denied' } : undefined,
    );
    expect(closed.map((entry) => entry.connection.name)).toEqual(['a']);
    expect(tracker.closeAll({ kind: 'drain', message: 'drain' })).toBe(2);
    expect(reasons).toEqual(['a policy', 'b drain']);
    let idle = false;
    const whenIdle = tracker.whenIdle().then(() => (idle = true));
    doneA();
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    doneB();
    await whenIdle;
    expect(tracker.size).toBe(0);
  });
});

describe('carry', () => {
  async function pair(): Promise<{ client: Socket; downstream: Socket; upstream: Socket; app: Promise<Socket> }> {
    let appSide!: (socket: Socket) => void;
    const app = new Promise<Socket>((resolve) => (appSide = resolve));
    const appPort = await listen((socket) => appSide(socket));
    let acceptedSide!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => (acceptedSide = resolve));
    const proxyPort = await listen((socket) => acceptedSide(socket));
    const client = await connectTcp({ host: '127.0.0.1', port: proxyPort });
    const downstream = await accepted;
    const upstream = await connectTcp({ host: '127.0.0.1', port: appPort });
    return { client, downstream, upstream, app };
  }

  it('counts both directions and ends as `peer` when both sides finish', async () => {
    const { client, downstream, upstream, app } = await pair();
    const tracker = new ConnectionTracker<{ name: string }>();
    const ended = carry({ tracker, info: { name: 'x' }, downstream, upstream });
    expect(tracker.size).toBe(1);
    const server = await app;
    server.on('data', (chunk: Buffer) => server.end(Buffer.concat([chunk, chunk])));
    client.end('abc');
    client.resume();
    expect(await ended).toEqual({ requestBytes: 3, responseBytes: 6, reason: { kind: 'peer' } });
    expect(tracker.size).toBe(0);
  });

  it('a close from the tracker wins: the reason is the tracker’s and the teardown runs once', async () => {
    const { client, downstream, upstream } = await pair();
    client.on('error', () => {});
    const tracker = new ConnectionTracker<{ name: string }>();
    const teardowns: CloseReason[] = [];
    const ended = carry({
      tracker,
      info: { name: 'x' },
      downstream,
      upstream,
      teardown: (reason) => {
        teardowns.push(reason);
        downstream.destroy();
        upstream.destroy();
      },
    });
    tracker.closeAll({ kind: 'policy', message: 'denied now' });
    tracker.closeAll({ kind: 'drain', message: 'drain' });
    const end = await ended;
    expect(end.reason).toEqual({ kind: 'policy', message: 'denied now' });
    expect(closeReport(end.reason).flags).toBe('DENY');
    expect(teardowns).toEqual([{ kind: 'policy', message: 'denied now' }]);
    expect(tracker.size).toBe(0);
  });
});

describe('workload labels', () => {
  const workload = {
    name: 'server-7d9f',
    workloadName: '',
    canonicalName: 'server',
    canonicalRevision: 'v1',
    namespace: 'default',
    clusterId: 'Kubernetes',
    locality: { region: 'eu', zone: 'eu-1', subzone: '' },
  };

  it('fall back to the pod name when the workload name is empty', () => {
    expect(workloadLabels(workload)?.workloadName).toBe('server-7d9f');
    expect(workloadLabels({ ...workload, workloadName: 'server' })?.workloadName).toBe('server');
    expect(workloadLabels(undefined)).toBeUndefined();
  });

  it('build the full Istio label set; unknowns stay `unknown`', () => {
    const labels = workloadTrafficLabels({
      reporter: 'destination',
      destination: workload,
      destinationPrincipal: 'spiffe://cluster.local/ns/default/sa/server',
      service: { hostname: 'server.default.svc.cluster.local', namespace: 'default', name: 'server' },
      responseFlags: 'DENY',
      mutualTls: true,
    });
    expect(labels).toMatchObject({
      reporter: 'destination',
      source_workload: 'unknown',
      source_principal: 'unknown',
      destination_workload: 'server-7d9f',
      destination_canonical_revision: 'v1',
      destination_service: 'server.default.svc.cluster.local',
      destination_principal: 'spiffe://cluster.local/ns/default/sa/server',
      destination_region: 'eu',
      destination_zone: 'eu-1',
      response_flags: 'DENY',
      connection_security_policy: 'mutual_tls',
    });
  });
});
