// Dedicated mode with real capture (facts §9.3 last bullet, §9.4 "dedicated mode variant"): Istio's dedicated rule
// in the namespace a ztunnel shares with its workload sends that workload's outbound TCP to 15001, where the
// original destination is read and the connection takes the same path as SOCKS5 — with no proxy settings in the
// client. Two nodes, one dedicated ztunnel each (child processes inside the node namespaces, one CA).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandError,
  createTopology,
  installDedicatedRules,
  isRoot,
  listDedicatedRules,
  startTcpServer,
  tcpExchange,
  type NamespacedProcess,
  type TcpServer,
  type Topology,
} from '@ambient-ts/netns-topology';
import { socksConnect } from '@ambient-ts/socks5';
import { parseConfig } from '../../src/config.ts';
import { Ztunnel } from '../../src/ztunnel.ts';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { testCa } from '../helpers/harness.ts';
import { eventually, metricValue } from '../helpers/observe.ts';
import {
  identity,
  startControlPlane,
  staticWorkload,
  startDedicatedZtunnel,
  writeTestCa,
  type DedicatedZtunnel,
} from './dedicated-harness.ts';

const { netnsSupport } = await import('@ambient-ts/netns').catch(() => ({
  netnsSupport: () => ({ available: false, reason: '@ambient-ts/netns is not installed' }) as const,
}));
const addon = netnsSupport();
const canCapture = isRoot && addon.available;
const why = !isRoot ? 'needs root' : addon.available ? '' : `needs the native addon: ${addon.reason}`;

describe.skipIf(!canCapture)(`dedicated mode captures an unmodified client (${why || 'root, native addon'})`, () => {
  let topology: Topology;
  let dir: string;
  let a: DedicatedZtunnel;
  let b: DedicatedZtunnel;
  let app: TcpServer;
  let outside: TcpServer;
  let clientIp: string;
  let serverIp: string;

  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 0 });
    const [nodeA, nodeB] = topology.nodes as [Topology['nodes'][number], Topology['nodes'][number]];
    clientIp = nodeA.ip; // dedicated: the workload shares its ztunnel's namespace, so it has the node's IP
    serverIp = nodeB.ip;
    dir = await mkdtemp(join(tmpdir(), 'ztunnel-dedicated-'));
    const caDir = await writeTestCa(dir);
    const localXdsPath = join(dir, 'mesh.yaml');
    await writeFile(
      localXdsPath,
      [
        'workloads:',
        staticWorkload('client', clientIp, 'node-a'),
        staticWorkload('server', serverIp, 'node-b'),
        '',
      ].join('\n'),
    );
    await Promise.all([installDedicatedRules(nodeA.namespace), installDedicatedRules(nodeB.namespace)]);
    [app, outside] = await Promise.all([
      startTcpServer(nodeB.namespace, { port: 8080, tag: 'server:' }),
      // Outside the mesh: the bridge's namespace (172.172.0.1), where no ztunnel runs.
      startTcpServer(topology.network, { port: 9090, tag: 'outside:' }),
    ]);
    [a, b] = await Promise.all([
      startDedicatedZtunnel({ namespace: nodeA.namespace, workload: 'client', localXdsPath, caDir }),
      startDedicatedZtunnel({ namespace: nodeB.namespace, workload: 'server', localXdsPath, caDir }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), app?.stop(), outside?.stop()]);
    await topology?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const accessLines = (ztunnel: DedicatedZtunnel, direction: string) =>
    ztunnel.logs().filter((entry) => entry['message'] === 'connection complete' && entry['direction'] === direction);

  it('runs the 15001 listener with the rule in place and says how it marks its own sockets', async () => {
    expect((await listDedicatedRules(topology.nodes[0]!.namespace)).nat).toHaveLength(1);
    expect(a.logs().find((entry) => String(entry['message']).startsWith('dedicated mode: capturing'))).toMatchObject({
      address: '[::]:15001',
      mark: 1337,
    });
  });

  it('carries an unmodified client through HBONE: echoed, both identities and mutual_tls in metrics and access logs', async () => {
    const exchange = await tcpExchange(topology.nodes[0]!.namespace, { host: serverIp, port: 8080 }, 'hello mesh');
    expect(exchange.received).toBe('server:hello mesh');
    expect(exchange.local.startsWith(`${clientIp}:`)).toBe(true);
    // The app saw ztunnel B, not the client directly: the bytes went through HBONE.
    expect(app.connections()).toHaveLength(1);

    const metrics = await eventually(
      () => a.get(15020, '/metrics'),
      (text) => metricValue(text, 'istio_tcp_connections_closed_total', { reporter: 'source' }) >= 1,
    );
    const labels = {
      reporter: 'source',
      source_principal: identity('client'),
      destination_principal: identity('server'),
      connection_security_policy: 'mutual_tls',
    };
    expect(metricValue(metrics, 'istio_tcp_connections_opened_total', labels)).toBe(1);
    expect(metricValue(metrics, 'istio_tcp_received_bytes_total', labels)).toBe('hello mesh'.length);
    expect(metricValue(metrics, 'istio_tcp_sent_bytes_total', labels)).toBe('server:hello mesh'.length);
    // ztunnel's own HBONE dial to 15008 was not redirected back into 15001: one outbound connection in all.
    expect(metricValue(metrics, 'istio_tcp_connections_opened_total', { reporter: 'source' })).toBe(1);

    const outbound = await eventually(
      () => accessLines(a, 'outbound'),
      (lines) => lines.length > 0,
    );
    expect(outbound).toHaveLength(1);
    expect(outbound[0]).toMatchObject({
      'src.addr': exchange.local,
      'src.identity': identity('client'),
      'dst.addr': `${serverIp}:15008`,
      'dst.hbone_addr': `${serverIp}:8080`,
      'dst.identity': identity('server'),
    });
    const inbound = await eventually(
      () => accessLines(b, 'inbound'),
      (lines) => lines.length > 0,
    );
    expect(inbound[0]).toMatchObject({ 'src.identity': identity('client'), 'dst.identity': identity('server') });
  });

  it('passes a destination outside the mesh through as plain TCP, its own dial marked', async () => {
    const bridge = '172.172.0.1';
    const exchange = await tcpExchange(topology.nodes[0]!.namespace, { host: bridge, port: 9090 }, 'plain');
    expect(exchange.received).toBe('outside:plain');
    // The upstream connection is ztunnel's (its own port), and it was not captured again.
    expect(outside.connections()).toHaveLength(1);
    expect(outside.connections()[0]!.remote.startsWith(`${clientIp}:`)).toBe(true);
    expect(outside.connections()[0]!.remote).not.toBe(exchange.local);
    const line = await eventually(
      () => accessLines(a, 'outbound').find((entry) => entry['dst.addr'] === `${bridge}:9090`),
      (found) => found !== undefined,
    );
    expect(line).toMatchObject({ 'src.addr': exchange.local });
    expect(line).not.toHaveProperty('src.identity');
    const metrics = await a.get(15020, '/metrics');
    expect(
      metricValue(metrics, 'istio_tcp_connections_opened_total', {
        reporter: 'source',
        connection_security_policy: 'unknown',
      }),
    ).toBe(1);
  });

  it('refuses a connection dialled to 15001 directly (no redirect) instead of looping', async () => {
    const namespace = topology.nodes[0]!.namespace;
    for (const host of ['127.0.0.1', clientIp]) {
      const failure = await tcpExchange(namespace, { host, port: 15001 }, 'loop?').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(CommandError);
      expect((failure as CommandError).stderr).toMatch(/ECONNRESET|EPIPE/);
    }
    const refused = await eventually(
      () =>
        a
          .logs()
          .filter((entry) =>
            String(entry['message']).startsWith(
              'connection failed: attempted recursive call to ourselves on illegal port 15001',
            ),
          ),
      (lines) => lines.length >= 2,
    );
    expect(refused.map((entry) => entry['dst'])).toEqual(['127.0.0.1:15001', `${clientIp}:15001`]);
    // Nothing was carried for them, and ztunnel still captures.
    expect(accessLines(a, 'outbound').some((entry) => String(entry['dst.addr']).endsWith(':15001'))).toBe(false);
    expect((await tcpExchange(namespace, { host: serverIp, port: 8080 }, 'again')).received).toBe('server:again');
  });
});

describe.skipIf(!canCapture)(
  `dedicated mode with xDS behind the rule: its own control-plane connection is let through (${why || 'root, native addon'})`,
  () => {
    let topology: Topology;
    let dir: string;
    let controlPlane: NamespacedProcess | undefined;
    let ztunnel: DedicatedZtunnel | undefined;

    beforeAll(async () => {
      topology = await createTopology({ nodes: 1, podsPerNode: 0 });
      dir = await mkdtemp(join(tmpdir(), 'ztunnel-dedicated-xds-'));
      const meshFile = join(dir, 'mesh.yaml');
      const pod = (name: string, ip: string) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: default}\nspec: {nodeName: node-a, serviceAccountName: ${name}}\nstatus: {podIP: ${ip}}\n`;
      await writeFile(
        meshFile,
        [
          'apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {istio.io/dataplane-mode: ambient}}\n',
          'apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n',
          pod('client', topology.nodes[0]!.ip),
        ].join('---\n'),
      );
      controlPlane = await startControlPlane({
        namespace: topology.network,
        host: '172.172.0.1',
        meshFile,
        stateDir: join(dir, 'state'),
      });
      await installDedicatedRules(topology.nodes[0]!.namespace);
    }, 60_000);

    afterAll(async () => {
      await Promise.all([ztunnel?.stop(), controlPlane?.stop()]);
      await topology?.destroy();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('becomes ready on xDS from 172.172.0.1:15010 although the rule captures the gRPC connection', async () => {
      ztunnel = await startDedicatedZtunnel({
        namespace: topology.nodes[0]!.namespace,
        workload: 'client',
        caDir: await writeTestCa(dir),
        env: {
          XDS_ADDRESS: 'http://172.172.0.1:15010',
          AUTH_TOKEN: join(dir, 'state', 'tokens', 'node-a'),
          NODE_NAME: 'node-a',
          RUST_LOG: 'info,access:debug,outbound:debug',
        },
      });
      // Ready means xDS synced; the workload came from the control plane.
      const dump = JSON.parse(await ztunnel.get(15000, '/config_dump')) as { workloadState: Record<string, unknown> };
      expect(Object.keys(dump.workloadState)).toHaveLength(1);
      // It did pass through 15001 (captured), carried as plain TCP, not as the workload's traffic.
      expect(
        ztunnel.logs().find((entry) => String(entry['message']).startsWith('control-plane connection (ztunnel itself')),
      ).toMatchObject({ dst: '172.172.0.1:15010' });
      const metrics = await ztunnel.get(15020, '/metrics');
      expect(metricValue(metrics, 'istio_tcp_connections_opened_total', { reporter: 'source' })).toBe(0);
    });
  },
);

// No root or addon needed: the helper's absence is simulated through ZtunnelOptions.captureSupport.
describe('dedicated mode where capture is unavailable', () => {
  const unavailable = async () => ({ available: false as const, reason: 'simulated: the native addon was not built' });
  const yaml =
    'workloads:\n- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.15.2"], protocol: HBONE, node: node-a}\n- {uid: c//Pod/default/plain, name: plain, namespace: default, serviceAccount: plain, trustDomain: cluster.local, workloadIps: ["127.0.15.1"], protocol: TCP, node: node-b}\n';
  const env = (mode: string) =>
    parseConfig({
      PROXY_MODE: mode,
      PROXY_WORKLOAD_INFO: 'default/client/client',
      XDS_ADDRESS: '',
      FAKE_CA: 'true',
      LOCAL_XDS: yaml,
      LOG_FORMAT: 'json',
      UNSTABLE_ENABLE_SOCKS5: 'true',
      ADMIN_ADDR: '127.0.0.1:0',
      STATS_ADDR: '127.0.0.1:0',
      READINESS_ADDR: '127.0.0.1:0',
      SOCKS5_ADDR: '127.0.0.1:0',
      OUTBOUND_CAPTURE_ADDR: '127.0.0.1:0',
    });

  it('runs as before (SOCKS5 only) and says at start which capture is unavailable, why, and which modes', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const ztunnel = await Ztunnel.start(env('dedicated'), {
      logDestination: out,
      caClient: await testCa(),
      captureSupport: unavailable,
    });
    const app = await startEchoServer('127.0.15.1', 8080, 'echo');
    try {
      expect(ztunnel.ports.outbound).toBeUndefined();
      ztunnel.logging.flush();
      const warning = text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry['capture'] === 'unavailable');
      expect(warning).toMatchObject({ level: 'warn', reason: 'simulated: the native addon was not built' });
      expect(warning?.['message']).toMatch(
        /^dedicated mode without capture: no listener on 127\.0\.0\.1:0, outbound traffic only through SOCKS5 on 127\.0\.0\.1:0; transparent capture is unavailable on this machine: simulated: the native addon was not built\. Unavailable: PROXY_MODE=shared .*PROXY_MODE=dedicated capture on 15001/,
      );
      const socket = await socksConnect({
        proxy: { host: '127.0.0.1', port: ztunnel.ports.socks5! },
        target: { host: '127.0.15.1', port: 8080 },
      });
      expect(await roundTrip(socket, 'still works')).toBe('still works');
    } finally {
      app.close();
      await ztunnel.drain(200);
    }
  });

  it('PROXY_MODE=shared is refused naming the modes capture would need', async () => {
    await expect(
      Ztunnel.start(env('shared'), { logDestination: new PassThrough(), captureSupport: unavailable }),
    ).rejects.toThrow(
      /^PROXY_MODE=shared cannot run here: transparent capture is unavailable on this machine: simulated: the native addon was not built\. Unavailable: PROXY_MODE=shared/,
    );
  });
});
