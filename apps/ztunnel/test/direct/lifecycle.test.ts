// Operator surface and lifecycle: readiness, /config_dump, /logging, drain (graceful and forced),
// /quitquitquit, port conflicts, and policy changes closing live connections.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { fromXdsAuthorization } from '@ambient-ts/policy';
import { socksConnect } from '@ambient-ts/socks5';
import { portOf, startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually, metricValue } from '../helpers/observe.ts';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.6.2"], protocol: HBONE, node: node-l}
- {uid: c//Pod/default/server, name: server, namespace: default, serviceAccount: server, trustDomain: cluster.local, workloadIps: ["127.0.6.1"], protocol: HBONE, node: node-l}
`;

let app: Server;
let started: StartedZtunnel | undefined;
beforeAll(async () => {
  app = await startEchoServer('127.0.6.1', 8080, 'echo');
});
afterAll(() => app.close());
afterEach(async () => {
  await started?.ztunnel.drain(100);
  started = undefined;
});

async function openConnection(node: StartedZtunnel): Promise<Socket> {
  return socksConnect({ proxy: node.socks, target: { host: '127.0.6.1', port: 8080 }, localAddress: '127.0.6.2' });
}

async function echo(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  return chunk.toString();
}

describe('operator surface', () => {
  it('is ready once static config is loaded and listeners are up; config_dump and logging answer', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const ready = await started.ready();
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    const dump = (await (await started.admin('/config_dump')).json()) as {
      workloads: { name: string }[];
      workloadState: Record<string, unknown>;
    };
    expect(dump.workloads.map((workload) => workload.name).sort()).toEqual(['client', 'server']);
    expect(Object.keys(dump)).toEqual(
      expect.arrayContaining([
        'workloads',
        'services',
        'policies',
        'certificates',
        'config',
        'version',
        'workloadState',
      ]),
    );
    expect(Object.keys(dump.workloadState)).toContain('c//Pod/default/server');
    const certificates = await eventually(
      async () =>
        (
          (await (await started!.admin('/config_dump')).json()) as {
            certificates: { identity: string; state: string }[];
          }
        ).certificates,
      (list) => list.filter((entry) => entry.state === 'Available').length === 2,
    );
    expect(certificates.map((entry) => entry.identity).sort()).toEqual([
      'spiffe://cluster.local/ns/default/sa/client',
      'spiffe://cluster.local/ns/default/sa/server',
    ]);
    const logging = await started.admin('/logging?level=access:debug', { method: 'POST' });
    expect(await logging.text()).toBe('current log level is info,access:debug\n');
    expect((await started.admin('/logging?level=nope', { method: 'POST' })).status).toBe(400);
  });

  it('fails to start when a port is taken, naming the port and its role', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      await expect(
        startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml, ADMIN_ADDR: `127.0.0.1:${portOf(blocker)}` }),
      ).rejects.toThrow(
        `admin port 127.0.0.1:${portOf(blocker)} cannot be bound (EADDRINUSE): another process is using it`,
      );
    } finally {
      blocker.close();
    }
  });

  it('stays not ready while a workload port is taken, and recovers when it is freed', async () => {
    const squatter = createServer().listen(15008, '127.0.6.1');
    await once(squatter, 'listening');
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const notReady = await eventually(started.ready, (response) => response.status === 500);
    expect(await notReady.text()).toBe('not ready, pending: workload listeners\n');
    await new Promise((resolve) => squatter.close(resolve));
    const ready = await eventually(started.ready, (response) => response.status === 200, 12_000);
    expect(ready.status).toBe(200);
  }, 30_000);

  it('rejects broken static config with file:line', async () => {
    await expect(
      startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: 'workloads:\n- uid: x\n  workloadIps: [300.1.1.1]\n' }),
    ).rejects.toThrow(/LOCAL_XDS:3:\d+: .*workloadIps/);
  });
});

describe('drain', () => {
  it('keeps established connections until they finish, refusing new ones', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const socket = await openConnection(started);
    expect(await echo(socket, 'before')).toBe('before');
    const drained = started.ztunnel.drain(10_000);
    await eventually(
      () => started!.ztunnel.lifecycle.current.state,
      (state) => state === 'draining',
    );
    expect(await echo(socket, 'during')).toBe('during');
    await expect(openConnection(started)).rejects.toThrow();
    socket.end();
    expect(await drained).toEqual({ state: 'stopped', forced: 0 });
    started = undefined;
  });

  it('forces connections closed at the deadline', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const socket = await openConnection(started);
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const result = await started.ztunnel.drain(300);
    expect(result.state).toBe('stopped');
    expect((result as { forced: number }).forced).toBeGreaterThanOrEqual(1);
    await closed;
    started = undefined;
  });

  it('POST /quitquitquit drains and stops', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    expect((await started.admin('/quitquitquit', { method: 'POST' })).status).toBe(200);
    await eventually(
      () => started!.ztunnel.lifecycle.current.state,
      (state) => state === 'stopped',
    );
    started = undefined;
  });
});

describe('policy changes', () => {
  it('close live inbound connections the new policy denies, and only those', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const socket = await openConnection(started);
    expect(await echo(socket, 'allowed')).toBe('allowed');
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const deny = fromXdsAuthorization({
      name: 'deny-client',
      namespace: 'default',
      scope: 'NAMESPACE',
      action: 'DENY',
      rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'cluster.local/ns/default/sa/client' }] }] }] }],
    });
    if (!deny.ok) throw new Error(deny.message);
    started.ztunnel.state.store.apply({ policies: [deny.policy] });
    await closed;
    const line = await eventually(
      async () =>
        started!.logs().find((entry) => String(entry['error']).includes('connection closed due to policy change')),
      (found) => found !== undefined,
    );
    expect(String(line!['error'])).toContain('explicitly denied by: default/deny-client');
    await expect(openConnection(started).then((next) => echo(next, 'again'))).rejects.toThrow();
  });
});

describe('close reasons reach the access log and the metrics', () => {
  const converted = fromXdsAuthorization({
    name: 'deny-client',
    namespace: 'default',
    scope: 'NAMESPACE',
    action: 'DENY',
    rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'cluster.local/ns/default/sa/client' }] }] }] }],
  });
  if (!converted.ok) throw new Error(converted.message);
  const denyClient = converted.policy;
  const completed = (node: StartedZtunnel, direction: string) =>
    node.logs().filter((entry) => entry['message'] === 'connection complete' && entry['direction'] === direction);

  it('a connection closed by a policy change is logged with the policy reason and counted with DENY', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const socket = await openConnection(started);
    expect(await echo(socket, 'allowed')).toBe('allowed');
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    started.ztunnel.state.store.apply({ policies: [denyClient] });
    await closed;
    const [line] = await eventually(
      async () => completed(started!, 'inbound'),
      (lines) => lines.length > 0,
    );
    expect(line!['error']).toBe('connection closed due to policy change: explicitly denied by: default/deny-client');
    const metrics = await started.metrics();
    const closedInbound = { reporter: 'destination', destination_workload: 'server' };
    expect(
      metricValue(metrics, 'istio_tcp_connections_closed_total', { ...closedInbound, response_flags: 'DENY' }),
    ).toBe(1);
    expect(
      metricValue(metrics, 'istio_tcp_connections_failed_total', { ...closedInbound, response_flags: 'DENY' }),
    ).toBe(1);
  });

  it('an inbound plaintext (15006) connection closed by a policy change is counted with DENY as well', async () => {
    // Node mode has no capture: 15006 forwards to the workload's one service target port.
    const withPort = yaml.replace(
      'workloadIps: ["127.0.6.1"], protocol: HBONE, node: node-l}',
      'workloadIps: ["127.0.6.1"], protocol: HBONE, node: node-l, services: {default/server.default.svc.cluster.local: {80: 8080}}}',
    );
    expect(withPort).not.toBe(yaml);
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: withPort });
    const socket = connect({ host: '127.0.6.1', port: 15006, localAddress: '127.0.9.1' });
    await once(socket, 'connect');
    expect(await echo(socket, 'plain')).toBe('plain');
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const port8080 = fromXdsAuthorization({
      name: 'deny-8080',
      namespace: 'default',
      scope: 'NAMESPACE',
      action: 'DENY',
      rules: [{ clauses: [{ matches: [{ destinationPorts: [8080] }] }] }],
    });
    if (!port8080.ok) throw new Error(port8080.message);
    started.ztunnel.state.store.apply({ policies: [port8080.policy] });
    await closed;
    const [line] = await eventually(
      async () => completed(started!, 'inbound'),
      (lines) => lines.length > 0,
    );
    expect(line).toMatchObject({
      'src.addr': expect.stringMatching(/^127\.0\.9\.1:/),
      error: 'connection closed due to policy change: explicitly denied by: default/deny-8080',
    });
    const metrics = await started.metrics();
    const plaintext = {
      reporter: 'destination',
      connection_security_policy: 'unknown',
      destination_workload: 'server',
    };
    expect(metricValue(metrics, 'istio_tcp_connections_closed_total', { ...plaintext, response_flags: 'DENY' })).toBe(
      1,
    );
  });

  it('a connection closed at the drain deadline is logged with the drain reason and no DENY flag', async () => {
    started = await startZtunnel({ NODE_NAME: 'node-l', LOCAL_XDS: yaml });
    const node = started;
    const socket = await openConnection(node);
    expect(await echo(socket, 'before')).toBe('before');
    socket.on('error', () => {});
    expect(await node.ztunnel.drain(200)).toMatchObject({ state: 'stopped' });
    started = undefined;
    const lines = [...completed(node, 'inbound'), ...completed(node, 'outbound')];
    const drained = lines.filter((entry) => entry['error'] === 'connection closed due to connection drain');
    expect(drained.map((entry) => entry['direction']).sort()).toEqual(['inbound', 'outbound']);
    const metrics = await node.ztunnel.metrics.render();
    expect(metricValue(metrics, 'istio_tcp_connections_closed_total', { response_flags: 'DENY' })).toBe(0);
    expect(metricValue(metrics, 'istio_tcp_connections_closed_total', { response_flags: '-' })).toBe(2);
  });
});
