// Shared mode carries traffic like Istio's ztunnel (facts §11 #1, #2; §1.11, §1.13): captured → captured on one
// node and across nodes through HBONE (one connection per reporter, the echo's bytes doubled back, both SPIFFE
// identities, mutual_tls, byte fields swapped between outbound and inbound logs), captured → service VIP (the
// endpoint pod with the translated authority, destination_service labels) and to its own service (hairpin through
// its own 15008, not spoofed), captured → uncaptured as plain
// TCP without identities, uncaptured → captured through 15006 (reporter destination, security policy unknown),
// the app seeing the client pod's IP (ENABLE_ORIG_SRC best effort; not with ENABLE_ORIG_SRC=false), and an
// unmodified `curl` in a pod. Clients are plain sockets made in the pods (test/netns/pod-apps.ts) or real
// programs started there. Root and the native addon only: otherwise skipped by name with the reason.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '@ambient-ts/netns-topology';
import { createNetnsMesh, expectMeshTraffic, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { accessLog, awaitAccessLog, awaitMetric, metricValue } from './mesh-observe.ts';
import { PodApps, roundTrip, type PodServer } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;
const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const VIP = '10.10.0.7';
const SELF_VIP = '10.10.0.8';
const ipOf = (address: string) => address.slice(0, address.lastIndexOf(':'));
const addressOf = (ip: string) => expect.stringMatching(new RegExp(`^${ip.replaceAll('.', '\\.')}:\\d+$`));

describe.skipIf(!support.available)(`shared mode traffic, two nodes${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();
  const servers: Record<string, PodServer> = {};

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 2,
      podsPerNode: 3,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1', services: { 'default/self.default.svc.cluster.local': { 80: 8080 } } },
        { name: 'outsider', pod: 'node0-pod2', captured: false },
        { name: 'server-b', pod: 'node1-pod0', services: { 'default/echo.default.svc.cluster.local': { 80: 8080 } } },
        { name: 'plain', pod: 'node1-pod1', captured: false },
        { name: 'web', pod: 'node1-pod2' },
      ],
      services: [
        {
          name: 'echo',
          namespace: 'default',
          hostname: 'echo.default.svc.cluster.local',
          vips: [`/${VIP}`],
          ports: { 80: 8080 },
        },
        {
          name: 'self',
          namespace: 'default',
          hostname: 'self.default.svc.cluster.local',
          vips: [`/${SELF_VIP}`],
          ports: { 80: 8080 },
        },
      ],
    });
    for (const name of ['server', 'server-b', 'plain'])
      servers[name] = await apps.server(mesh.workload(name).pod, 8080, 'double');
    servers['web'] = await apps.server(mesh.workload('web').pod, 80, 'http');
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  /**
   * facts §11 #1 (the harness's expectMeshTraffic: one connection per reporter, 11 bytes in and 22 back, both
   * identities, swapped log bytes), and the outbound record is this very connection, complete without error.
   */
  async function expectHbone(clientName: string, serverName: string, localPort: number) {
    await expectMeshTraffic(mesh, { client: clientName, server: serverName, bytes: 11, returned: 22 });
    const client = mesh.workload(clientName);
    const server = mesh.workload(serverName);
    const outbound = await awaitAccessLog(mesh, client.pod.node.name, {
      message: 'connection complete',
      direction: 'outbound',
      'src.addr': `${client.ip}:${localPort}`,
    });
    expect(outbound).toMatchObject({ level: 'info', 'src.namespace': 'default', 'dst.workload': serverName });
    expect(outbound).not.toHaveProperty('error');
    const inbound = await awaitAccessLog(mesh, server.pod.node.name, {
      message: 'connection complete',
      direction: 'inbound',
      'src.workload': clientName,
      'dst.workload': serverName,
    });
    expect(inbound).toMatchObject({ 'src.addr': addressOf(client.ip), 'dst.addr': `${server.ip}:15008` });
  }

  it('captured → captured on the same node: HBONE between the pods, metrics and access logs as ztunnel', async () => {
    const client = mesh.workload('client');
    const socket = await apps.connect(client.pod, { host: mesh.workload('server').ip, port: 8080 });
    const localPort = socket.localPort!;
    expect(await roundTrip(socket, 'hello world')).toBe('hello worldhello world');
    await expectHbone('client', 'server', localPort);
    // Original source preserved (ENABLE_ORIG_SRC best effort, facts §1.11/§9.3): the app sees the client pod.
    expect(servers['server']!.accepted.map(ipOf)).toEqual([client.ip]);
  });

  it('captured → captured across nodes: the other node’s ztunnel terminates HBONE, the app sees the client IP', async () => {
    const client = mesh.workload('client');
    const socket = await apps.connect(client.pod, { host: mesh.workload('server-b').ip, port: 8080 });
    const localPort = socket.localPort!;
    expect(await roundTrip(socket, 'hello world')).toBe('hello worldhello world');
    await expectHbone('client', 'server-b', localPort);
    expect(servers['server-b']!.accepted.map(ipOf)).toEqual([client.ip]);
  });

  it('captured → service VIP: HBONE to the endpoint pod with the translated authority, service labels', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server-b');
    expect(await apps.exchange(client.pod, { host: VIP, port: 80 }, 'vip')).toBe('vipvip');
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'outbound',
      'dst.service': 'echo.default.svc.cluster.local',
    });
    expect(line).toMatchObject({
      'dst.addr': `${server.ip}:15008`,
      'dst.hbone_addr': `${server.ip}:8080`,
      'dst.workload': 'server-b',
      'dst.identity': server.identity,
    });
    for (const [reporter, node] of [
      ['source', 'node0'],
      ['destination', 'node1'],
    ] as const) {
      const labels = {
        reporter,
        source_workload: 'client',
        destination_service: 'echo.default.svc.cluster.local',
        destination_service_name: 'echo',
        destination_workload: 'server-b',
      };
      const text = await awaitMetric(mesh, node, 'istio_tcp_connections_closed_total', labels);
      expect(metricValue(text, 'istio_tcp_connections_opened_total', labels)).toBe(1);
    }
  });

  it('hairpin: a pod reaching its own service goes out through HBONE to its own 15008 and back (facts §2.4)', async () => {
    const server = mesh.workload('server');
    const before = servers['server']!.accepted.length;
    expect(await apps.exchange(server.pod, { host: SELF_VIP, port: 80 }, 'hairpin')).toBe('hairpinhairpin');
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.service': 'self.default.svc.cluster.local',
    });
    expect(line).toMatchObject({
      'src.workload': 'server',
      'src.identity': server.identity,
      'dst.addr': `${server.ip}:15008`,
      'dst.hbone_addr': `${server.ip}:8080`,
      'dst.workload': 'server',
    });
    // Source == destination: not spoofed, the app sees the pod's own address.
    expect(servers['server']!.accepted.slice(before).map(ipOf)).toEqual([server.ip]);
  });

  it('captured → uncaptured: plain TCP passthrough from the pod, no identities', async () => {
    const client = mesh.workload('client');
    const plain = mesh.workload('plain');
    expect(await apps.exchange(client.pod, { host: plain.ip, port: 8080 }, 'plain')).toBe('plainplain');
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'outbound',
      'dst.addr': `${plain.ip}:8080`,
    });
    expect(line).toMatchObject({ 'src.workload': 'client', 'dst.workload': 'plain', bytes_sent: 5, bytes_recv: 10 });
    expect(line).not.toHaveProperty('src.identity');
    expect(line).not.toHaveProperty('dst.identity');
    expect(line).not.toHaveProperty('dst.hbone_addr');
    const text = await awaitMetric(mesh, 'node0', 'istio_tcp_connections_closed_total', {
      reporter: 'source',
      destination_workload: 'plain',
    });
    expect(
      metricValue(text, 'istio_tcp_connections_opened_total', {
        reporter: 'source',
        source_workload: 'client',
        destination_workload: 'plain',
        source_principal: 'unknown',
        destination_principal: 'unknown',
        connection_security_policy: 'unknown',
      }),
    ).toBe(1);
    // Not tunneled: the uncaptured pod's node ztunnel saw nothing of it, and the app saw the client pod.
    expect(accessLog(mesh, 'node1', { 'dst.workload': 'plain' })).toEqual([]);
    expect(servers['plain']!.accepted.map(ipOf)).toEqual([client.ip]);
  });

  it('uncaptured → captured: plaintext inbound on 15006 (reporter destination, security policy unknown)', async () => {
    const outsider = mesh.workload('outsider');
    const server = mesh.workload('server');
    const socket = await apps.connect(outsider.pod, { host: server.ip, port: 8080 });
    const localPort = socket.localPort!;
    expect(await roundTrip(socket, 'plaintext')).toBe('plaintextplaintext');
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'inbound',
      'src.addr': `${outsider.ip}:${localPort}`,
    });
    expect(line).toMatchObject({
      'src.workload': 'outsider',
      'dst.addr': `${server.ip}:8080`,
      'dst.workload': 'server',
      bytes_sent: 18,
      bytes_recv: 9,
    });
    expect(line).not.toHaveProperty('src.identity');
    expect(line).not.toHaveProperty('dst.identity');
    const labels = {
      reporter: 'destination',
      source_workload: 'outsider',
      destination_workload: 'server',
      source_principal: 'unknown',
      connection_security_policy: 'unknown',
    };
    const text = await awaitMetric(mesh, 'node0', 'istio_tcp_connections_closed_total', labels);
    expect(metricValue(text, 'istio_tcp_connections_opened_total', labels)).toBe(1);
    expect(metricValue(text, 'istio_tcp_received_bytes_total', labels)).toBe(9);
    expect(metricValue(text, 'istio_tcp_sent_bytes_total', labels)).toBe(18);
    // No outbound side: the source pod is not captured.
    expect(accessLog(mesh, 'node0', { direction: 'outbound', 'src.workload': 'outsider' })).toEqual([]);
    // Original source: the app sees the outsider's IP.
    expect(servers['server']!.accepted.map(ipOf).at(-1)).toBe(outsider.ip);
  });

  it.skipIf(!hasCurl)(
    `an unmodified curl in a pod (no proxy settings) gets the HTTP answer of a pod on the other node${hasCurl ? '' : ' — skipped: curl is not installed'}`,
    async () => {
      const client = mesh.workload('client');
      const web = mesh.workload('web');
      const { stdout } = await exec(
        client.pod.namespace,
        ['curl', '--silent', '--show-error', '--noproxy', '*', '--max-time', '10', `http://${web.ip}/`],
        { timeoutMs: 15_000 },
      );
      expect(stdout).toBe('hello from node1-pod2\n');
      const line = await awaitAccessLog(mesh, 'node0', {
        message: 'connection complete',
        direction: 'outbound',
        'dst.hbone_addr': `${web.ip}:80`,
      });
      expect(line).toMatchObject({
        'src.workload': 'client',
        'src.identity': client.identity,
        'dst.identity': web.identity,
        'dst.addr': `${web.ip}:15008`,
      });
      expect(
        await awaitAccessLog(mesh, 'node1', { message: 'connection complete', 'dst.workload': 'web' }),
      ).toMatchObject({ direction: 'inbound', 'src.identity': client.identity });
      expect(servers['web']!.accepted.map(ipOf)).toEqual([client.ip]);
    },
  );
});

describe.skipIf(!support.available)(`shared mode with ENABLE_ORIG_SRC=false${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 2,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1', services: { 'default/self.default.svc.cluster.local': { 80: 8080 } } },
      ],
      env: { ENABLE_ORIG_SRC: 'false' },
    });
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  it('the app does not see the client pod’s IP: ztunnel connects from inside the server pod', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const app = await apps.server(server.pod, 8080, 'double');
    expect(await apps.exchange(client.pod, { host: server.ip, port: 8080 }, 'hi')).toBe('hihi');
    expect(app.accepted).toHaveLength(1);
    expect(ipOf(app.accepted[0]!)).not.toBe(client.ip);
    expect(ipOf(app.accepted[0]!)).toBe(server.ip);
    const dump = (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
      inpod: { pods: { name: string; originalSource: boolean }[] };
    };
    expect(dump.inpod.pods.map((pod) => [pod.name, pod.originalSource]).sort()).toEqual([
      ['client', false],
      ['server', false],
    ]);
  });
});
