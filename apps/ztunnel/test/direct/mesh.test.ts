// Mesh traffic through real in-process ztunnels (node mode, loopback): the scenarios of ztunnel-facts §11
// that need no network namespaces.
import type { Server } from 'node:net';
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { hboneConnect, startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually, metricValue } from '../helpers/observe.ts';
import { meshYaml } from './mesh.yaml.ts';

let nodeA: StartedZtunnel;
let nodeB: StartedZtunnel;
const apps: Server[] = [];
const serverId = 'spiffe://cluster.local/ns/default/sa/server';
const clientId = 'spiffe://cluster.local/ns/default/sa/client';

beforeAll(async () => {
  for (const ip of ['127.0.3.1', '127.0.4.1', '127.0.4.5', '127.0.4.2']) apps.push(await startEchoServer(ip, 8080));
  nodeA = await startZtunnel({ NODE_NAME: 'node-a', LOCAL_XDS: meshYaml });
  nodeB = await startZtunnel({ NODE_NAME: 'node-b', LOCAL_XDS: meshYaml });
});

afterAll(async () => {
  await Promise.all([nodeA?.ztunnel.drain(200), nodeB?.ztunnel.drain(200)]);
  for (const app of apps) app.close();
});

const fromClient = (host: string, port: number) =>
  socksConnect({ proxy: nodeA.socks, target: { host, port }, localAddress: '127.0.3.2' });
const accessLines = (started: StartedZtunnel, filter: Record<string, unknown>) =>
  started
    .logs()
    .filter(
      (line) => line['scope'] === 'access' && Object.entries(filter).every(([key, value]) => line[key] === value),
    );

describe('mesh to mesh', () => {
  it('same node: HBONE with both identities, metrics per reporter, access logs with swapped byte counts', async () => {
    expect(await roundTrip(await fromClient('127.0.3.1', 8080), 'hello world')).toBe('hello worldhello world');
    const text = await eventually(
      nodeA.metrics,
      (body) =>
        metricValue(body, 'istio_tcp_connections_closed_total', {
          reporter: 'destination',
          destination_workload: 'server',
        }) >= 1,
    );
    const labels = { source_workload: 'client', destination_workload: 'server', destination_principal: serverId };
    for (const reporter of ['source', 'destination']) {
      const mine = { ...labels, reporter };
      expect(metricValue(text, 'istio_tcp_connections_opened_total', mine)).toBe(1);
      expect(metricValue(text, 'istio_tcp_connections_closed_total', mine)).toBe(1);
      expect(metricValue(text, 'istio_tcp_received_bytes_total', mine)).toBe(11);
      expect(metricValue(text, 'istio_tcp_sent_bytes_total', mine)).toBe(22);
    }
    expect(text).toMatch(
      /istio_tcp_connections_opened_total\{reporter="source",[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/client"[^}]*connection_security_policy="mutual_tls"/,
    );
    const [outbound] = accessLines(nodeA, {
      message: 'connection complete',
      direction: 'outbound',
      'dst.hbone_addr': '127.0.3.1:8080',
    });
    const [inbound] = accessLines(nodeA, {
      message: 'connection complete',
      direction: 'inbound',
      'dst.hbone_addr': '127.0.3.1:8080',
    });
    expect(outbound).toMatchObject({
      'src.workload': 'client',
      'src.identity': clientId,
      'dst.addr': '127.0.3.1:15008',
      'dst.identity': serverId,
      bytes_sent: 11,
      bytes_recv: 22,
    });
    expect(inbound).toMatchObject({
      'src.identity': clientId,
      'dst.workload': 'server-a',
      'dst.identity': serverId,
      bytes_sent: 22,
      bytes_recv: 11,
    });
  });

  it('across nodes: the peer ztunnel terminates HBONE and reports as destination', async () => {
    expect(await roundTrip(await fromClient('127.0.4.1', 8080), 'cross')).toBe('crosscross');
    const text = await eventually(
      nodeB.metrics,
      (body) =>
        metricValue(body, 'istio_tcp_connections_closed_total', {
          reporter: 'destination',
          source_workload: 'client',
        }) >= 1,
    );
    expect(
      metricValue(text, 'istio_tcp_received_bytes_total', {
        reporter: 'destination',
        source_workload: 'client',
        destination_principal: serverId,
      }),
    ).toBe(5);
    const [inbound] = accessLines(nodeB, { message: 'connection complete', direction: 'inbound' });
    expect(inbound).toMatchObject({
      'src.addr': expect.stringMatching(/^127\.0\.3\.2:/),
      'src.identity': clientId,
      'dst.addr': '127.0.4.1:15008',
      'dst.hbone_addr': '127.0.4.1:8080',
    });
  });

  it('service VIP: load-balances over both endpoints (translated authority), with destination_service labels', async () => {
    const hit = new Set<string>();
    for (let index = 0; index < 30; index++) {
      await roundTrip(await fromClient('127.10.3.1', 80), 'x');
    }
    await eventually(
      async () => [...accessLines(nodeA, { direction: 'outbound', 'dst.service': 'server.default.svc.cluster.local' })],
      (lines) => lines.length >= 30,
    );
    for (const line of accessLines(nodeA, { direction: 'outbound', 'dst.service': 'server.default.svc.cluster.local' }))
      hit.add(String(line['dst.hbone_addr']));
    expect(hit).toEqual(new Set(['127.0.3.1:8080', '127.0.4.1:8080']));
    const text = await nodeB.metrics();
    expect(
      metricValue(text, 'istio_tcp_connections_opened_total', {
        reporter: 'destination',
        destination_service: 'server.default.svc.cluster.local',
        destination_service_name: 'server',
      }),
    ).toBeGreaterThan(0);
  });
});

describe('mesh and non-mesh', () => {
  it('a TCP (non-HBONE) workload is reached as plain TCP, no identities', async () => {
    expect(await roundTrip(await fromClient('127.0.4.5', 8080), 'plain')).toBe('plainplain');
    const [line] = accessLines(nodeA, { direction: 'outbound', 'dst.addr': '127.0.4.5:8080' });
    expect(line).toMatchObject({ 'dst.workload': 'plain' });
    expect(line).not.toHaveProperty('src.identity');
    expect(line).not.toHaveProperty('dst.identity');
  });

  it('an unknown destination is passthrough TCP', async () => {
    const outside = await startEchoServer('127.0.9.9', 0, 'echo');
    try {
      const port = (outside.address() as { port: number }).port;
      expect(await roundTrip(await fromClient('127.0.9.9', port), 'out')).toBe('out');
    } finally {
      outside.close();
    }
  });

  it('an out-of-mesh client reaches a mesh workload as plaintext (15006), authorized without identity', async () => {
    const socket = connect({ host: '127.0.3.1', port: 15006, localAddress: '127.0.9.1' });
    await once(socket, 'connect');
    const localPort = socket.localPort;
    expect(await roundTrip(socket, 'plaintext')).toBe('plaintextplaintext');
    const [line] = await eventually(
      async () =>
        accessLines(nodeA, {
          message: 'connection complete',
          direction: 'inbound',
          'src.addr': `127.0.9.1:${localPort}`,
        }),
      (lines) => lines.length === 1,
    );
    expect(line).toMatchObject({
      'dst.addr': '127.0.3.1:8080',
      'dst.workload': 'server-a',
      bytes_recv: 9,
      bytes_sent: 18,
    });
    expect(line).not.toHaveProperty('src.identity');
    const text = await nodeA.metrics();
    expect(
      metricValue(text, 'istio_tcp_connections_opened_total', {
        reporter: 'destination',
        connection_security_policy: 'unknown',
        destination_workload: 'server',
      }),
    ).toBeGreaterThan(0);
  });
});

describe('inbound HBONE checks (raw HBONE client)', () => {
  it('hostname authority: 200, port from the service', async () => {
    const probe = await hboneConnect({
      identity: clientId,
      to: { host: '127.0.4.1', port: 15008 },
      authority: 'server.default.svc.cluster.local:80',
      expect: [serverId],
    });
    expect(probe.status).toBe(200);
    probe.stream!.end('host');
    let data = '';
    for await (const chunk of probe.stream!) data += chunk.toString();
    expect(data).toBe('hosthost');
    await probe.pool.close();
  });

  it('ip mismatch: 400 and the log says why', async () => {
    const probe = await hboneConnect({
      identity: clientId,
      to: { host: '127.0.4.1', port: 15008 },
      authority: '127.0.4.5:8080',
      expect: [serverId],
    });
    expect(probe.status).toBe(400);
    await probe.pool.close();
    const lines = await eventually(
      async () => nodeB.logs().filter((line) => String(line['error']).includes('ip mismatch')),
      (found) => found.length > 0,
    );
    expect(String(lines[0]!['error'])).toContain('127.0.4.1 != 127.0.4.5');
  });

  it("policy: ALLOW for another principal → 401 with ztunnel's message", async () => {
    const probe = await hboneConnect({
      identity: clientId,
      to: { host: '127.0.4.2', port: 15008 },
      authority: '127.0.4.2:8080',
      expect: ['spiffe://cluster.local/ns/guarded/sa/guarded'],
    });
    expect(probe.status).toBe(401);
    await probe.pool.close();
    const [line] = await eventually(
      async () => accessLines(nodeB, { 'dst.workload': 'guarded', message: 'connection complete' }),
      (found) => found.length > 0,
    );
    expect(line).toMatchObject({
      level: 'error',
      error: 'connection closed due to policy rejection: allow policies exist, but none allowed',
    });
    const text = await nodeB.metrics();
    expect(
      metricValue(text, 'istio_tcp_connections_failed_total', {
        response_flags: 'DENY',
        destination_workload_namespace: 'guarded',
      }),
    ).toBe(1);
  });

  it('backend refuses: 503, a CONNECT-flagged failure and an io error in the log', async () => {
    const probe = await hboneConnect({
      identity: clientId,
      to: { host: '127.0.4.1', port: 15008 },
      authority: '127.0.4.1:9999',
      expect: [serverId],
    });
    expect(probe.status).toBe(503);
    await probe.pool.close();
    const [line] = await eventually(
      async () => accessLines(nodeB, { message: 'connection complete', 'dst.hbone_addr': '127.0.4.1:9999' }),
      (found) => found.length > 0,
    );
    expect(String(line!['error'])).toMatch(/^io error: .*ECONNREFUSED/);
    expect(
      metricValue(await nodeB.metrics(), 'istio_tcp_connections_failed_total', { response_flags: 'CONNECT' }),
    ).toBe(1);
  });

  it('a service with no healthy endpoint closes the client connection: no healthy upstream', async () => {
    await expect(fromClient('127.10.3.9', 80)).rejects.toMatchObject({ reply: 4 });
    const lines = accessLines(nodeA, { message: 'connection failed' });
    expect(lines.some((line) => String(line['error']).includes('no healthy upstream'))).toBe(true);
  });
});
