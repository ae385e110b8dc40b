// Inbound checks of a pod in shared mode (facts §1.6, §1.13, §6.6, §11 #9, #10): an ALLOW policy for another
// principal answers a raw HBONE CONNECT with 401 and ztunnel's policy-rejection log line, a captured client's
// connection to that pod is closed without data, and plaintext from an uncaptured pod (15006, no identity) is
// denied too; a CONNECT whose authority is another IP gets 400 and `ip mismatch: <pod ip> != <authority ip>`; a
// policy change closes the live in-pod connections it now denies. The raw HBONE client runs in an uncaptured pod
// (15008 is not redirected by the in-pod rules) with a certificate from the test CA. Root and the addon only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromXdsAuthorization } from '@ambient-ts/policy';
import { eventually } from '../helpers/observe.ts';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { awaitAccessLog, awaitLogMentioning, awaitMetric, metricValue } from './mesh-observe.ts';
import { attempt, closed, PodApps, type PodServer } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;
const policyRejection = 'connection closed due to policy rejection: allow policies exist, but none allowed';

describe.skipIf(!support.available)(`shared mode inbound policy and authority checks${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();
  let guardedApp: PodServer;
  let serverApp: PodServer;

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 2,
      podsPerNode: 2,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'prober', pod: 'node0-pod1', captured: false },
        { name: 'guarded', pod: 'node1-pod0', namespace: 'guarded' },
        { name: 'server', pod: 'node1-pod1' },
      ],
      policies: [
        {
          name: 'only-other',
          namespace: 'guarded',
          scope: 'Namespace',
          action: 'Allow',
          rules: [[[{ principals: [{ Exact: 'cluster.local/ns/default/sa/other' }] }]]],
        },
      ],
    });
    guardedApp = await apps.server(mesh.workload('guarded').pod, 8080, 'double');
    serverApp = await apps.server(mesh.workload('server').pod, 8080, 'double');
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  it('ALLOW for another principal: a raw HBONE CONNECT gets 401 and the policy-rejection log line', async () => {
    const guarded = mesh.workload('guarded');
    const client = mesh.workload('client');
    const probe = await apps.hboneConnect(mesh.workload('prober').pod, {
      identity: client.identity,
      to: { host: guarded.ip, port: 15008 },
      authority: `${guarded.ip}:8080`,
      expect: [guarded.identity],
    });
    expect(probe.status).toBe(401);
    const line = await awaitAccessLog(mesh, 'node1', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.workload': 'guarded',
      'src.workload': 'prober',
    });
    expect(line).toMatchObject({
      level: 'error',
      error: policyRejection,
      'src.identity': client.identity,
      'dst.identity': guarded.identity,
      'dst.hbone_addr': `${guarded.ip}:8080`,
    });
    const labels = {
      reporter: 'destination',
      response_flags: 'DENY',
      destination_workload: 'guarded',
      destination_workload_namespace: 'guarded',
    };
    const text = await awaitMetric(mesh, 'node1', 'istio_tcp_connections_failed_total', labels);
    expect(metricValue(text, 'istio_tcp_connections_failed_total', { ...labels, source_workload: 'prober' })).toBe(1);
  });

  it('a captured client’s connection to the guarded pod is closed without data', async () => {
    const guarded = mesh.workload('guarded');
    const result = await attempt(apps, mesh.workload('client').pod, { host: guarded.ip, port: 8080 }, 'let me in');
    // The client's own ztunnel accepted the captured connection, then closed it when the tunnel was refused.
    expect(result.connected).toBe(true);
    expect(result.received).toBe('');
    expect(guardedApp.accepted).toEqual([]);
    const inbound = await awaitAccessLog(mesh, 'node1', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.workload': 'guarded',
      'src.workload': 'client',
    });
    expect(inbound).toMatchObject({
      level: 'error',
      error: policyRejection,
      'src.identity': mesh.workload('client').identity,
    });
    // The client side: the tunnel was refused, so the app connection failed (no bytes, no retry: facts §1.6).
    const outbound = await awaitAccessLog(mesh, 'node0', {
      message: 'connection failed',
      direction: 'outbound',
      'dst.addr': `${guarded.ip}:8080`,
    });
    expect(outbound).toMatchObject({ level: 'warn' });
    expect(String(outbound!['src.addr'])).toMatch(new RegExp(`^${mesh.workload('client').ip}:\\d+$`));
    expect(String(outbound!['error'])).toContain('HTTP status 401');
    const failed = await awaitMetric(mesh, 'node1', 'istio_tcp_connections_failed_total', {
      reporter: 'destination',
      response_flags: 'DENY',
      source_workload: 'client',
      destination_workload: 'guarded',
    });
    expect(
      metricValue(failed, 'istio_tcp_connections_failed_total', {
        reporter: 'destination',
        source_workload: 'client',
        destination_workload: 'guarded',
      }),
    ).toBe(1);
  });

  it('plaintext from an uncaptured pod (15006, no identity) does not match the principal: denied, closed', async () => {
    const guarded = mesh.workload('guarded');
    const result = await attempt(apps, mesh.workload('prober').pod, { host: guarded.ip, port: 8080 }, 'plain');
    expect(result.received).toBe('');
    expect(guardedApp.accepted).toEqual([]);
    const line = await awaitAccessLog(mesh, 'node1', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.workload': 'guarded',
      'dst.addr': `${guarded.ip}:8080`,
    });
    expect(line).toMatchObject({ level: 'error', error: policyRejection, 'src.workload': 'prober' });
    expect(line).not.toHaveProperty('src.identity');
    const labels = {
      reporter: 'destination',
      response_flags: 'DENY',
      source_workload: 'prober',
      destination_workload: 'guarded',
      connection_security_policy: 'unknown',
    };
    const text = await awaitMetric(mesh, 'node1', 'istio_tcp_connections_failed_total', labels);
    expect(metricValue(text, 'istio_tcp_connections_failed_total', labels)).toBe(1);
  });

  it('ip mismatch: a CONNECT to the pod’s 15008 naming another IP gets 400 and the log says which', async () => {
    const server = mesh.workload('server');
    const other = mesh.workload('guarded');
    const probe = await apps.hboneConnect(mesh.workload('prober').pod, {
      identity: mesh.workload('client').identity,
      to: { host: server.ip, port: 15008 },
      authority: `${other.ip}:8080`,
      expect: [server.identity],
    });
    expect(probe.status).toBe(400);
    const [line] = await awaitLogMentioning(mesh, 'node1', 'ip mismatch');
    expect(String(line!['error'])).toBe(`ip mismatch: ${server.ip} != ${other.ip}`);
    // Refused before any app was dialled.
    expect(serverApp.accepted).toEqual([]);
    expect(guardedApp.accepted).toEqual([]);
  });

  it('a policy change closes the live in-pod connections it now denies, and refuses new ones', async () => {
    const server = mesh.workload('server');
    const client = mesh.workload('client');
    const live = await apps.connect(client.pod, { host: server.ip, port: 8080 });
    live.on('error', () => {});
    let received = '';
    live.on('data', (chunk: Buffer) => (received += chunk.toString()));
    live.write('first');
    await eventually(
      () => received,
      (text) => text === 'firstfirst',
    );
    const deny = fromXdsAuthorization({
      name: 'deny-client',
      namespace: 'default',
      scope: 'NAMESPACE',
      action: 'DENY',
      rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'cluster.local/ns/default/sa/client' }] }] }] }],
    });
    if (!deny.ok) throw new Error(deny.message);
    // As the direct tier does: the new policy reaches the server node's store (xDS would deliver it there).
    mesh.ztunnel('node1').started.ztunnel.state.store.apply({ policies: [deny.policy] });
    await closed(live);
    const line = await awaitAccessLog(mesh, 'node1', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.workload': 'server',
      'src.workload': 'client',
    });
    expect(String(line!['error'])).toMatch(/^connection closed due to policy change: .*default\/deny-client/);
    const again = await attempt(apps, client.pod, { host: server.ip, port: 8080 }, 'again');
    expect(again.received).toBe('');
  });
});
