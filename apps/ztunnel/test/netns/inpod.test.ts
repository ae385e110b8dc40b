// PROXY_MODE=shared end to end (facts §9, §11 #1 and #14): pods as network namespaces with Istio's in-pod
// iptables rules, our ztunnel in-process per node serving each pod from inside its namespace, a fake CNI agent
// handing over the namespace fds. The client is an unmodified program (`net.connect` inside pod A, no SOCKS5,
// no proxy settings); the server a plain echo server inside pod B. Root only: otherwise skipped by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpServer, tcpExchange, type TcpServer } from '@ambient-ts/netns-topology';
import { eventually, metricValue } from '../helpers/observe.ts';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;

const accessLines = (mesh: NetnsMesh, node: string, filter: Record<string, unknown>) =>
  mesh
    .ztunnel(node)
    .started.logs()
    .filter(
      (line) => line['scope'] === 'access' && Object.entries(filter).every(([key, value]) => line[key] === value),
    );

/** Both reporters count one mutual-TLS connection between the identities, with the bytes of one echo. */
async function expectMeshMetrics(mesh: NetnsMesh, clientNode: string, serverNode: string, bytes: number) {
  const client = mesh.workload('client');
  const server = mesh.workload('server');
  const labels = {
    source_workload: 'client',
    destination_workload: 'server',
    source_principal: client.identity,
    destination_principal: server.identity,
    connection_security_policy: 'mutual_tls',
  };
  for (const [reporter, node] of [
    ['source', clientNode],
    ['destination', serverNode],
  ] as const) {
    const mine = { ...labels, reporter };
    const text = await eventually(
      () => mesh.ztunnel(node).started.metrics(),
      (body) => metricValue(body, 'istio_tcp_connections_closed_total', mine) >= 1,
    );
    expect(metricValue(text, 'istio_tcp_connections_opened_total', mine)).toBe(1);
    expect(metricValue(text, 'istio_tcp_connections_closed_total', mine)).toBe(1);
    expect(metricValue(text, 'istio_tcp_received_bytes_total', mine)).toBe(bytes);
    expect(metricValue(text, 'istio_tcp_sent_bytes_total', mine)).toBe(bytes);
  }
  const outbound = await eventually(
    () => accessLines(mesh, clientNode, { direction: 'outbound', 'dst.workload': 'server' }),
    (lines) => lines.some((line) => line['message'] === 'connection complete'),
  );
  expect(outbound.find((line) => line['message'] === 'connection complete')).toMatchObject({
    'src.addr': expect.stringMatching(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:\\d+$`)),
    'src.workload': 'client',
    'src.identity': client.identity,
    'dst.addr': `${server.ip}:15008`,
    'dst.hbone_addr': `${server.ip}:8080`,
    'dst.identity': server.identity,
    bytes_sent: bytes,
    bytes_recv: bytes,
  });
  const inbound = await eventually(
    () => accessLines(mesh, serverNode, { direction: 'inbound', 'dst.workload': 'server' }),
    (lines) => lines.some((line) => line['message'] === 'connection complete'),
  );
  expect(inbound.find((line) => line['message'] === 'connection complete')).toMatchObject({
    'src.workload': 'client',
    'src.identity': client.identity,
    'dst.identity': server.identity,
    'dst.hbone_addr': `${server.ip}:8080`,
  });
}

describe.skipIf(!support.available)(`in-pod mode, one node with two captured pods${suffix}`, () => {
  let mesh: NetnsMesh;
  let echo: TcpServer;

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 2,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1' },
      ],
    });
    echo = await startTcpServer(mesh.workload('server').pod.namespace, { port: 8080 });
  });

  afterAll(async () => {
    await echo?.stop();
    await mesh?.destroy();
  });

  it('an unmodified client in pod A reaches the server in pod B through HBONE, keeping its source IP', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const exchange = await tcpExchange(client.pod.namespace, { host: server.ip, port: 8080 }, 'hello world');
    expect(exchange.received).toBe('hello world');
    // Original source preserved (IP_TRANSPARENT + the 0x111 connmark rules): the app sees pod A's IP.
    const [accepted] = await echo.waitForConnections(1);
    expect(accepted?.remote).toMatch(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:`));
    await expectMeshMetrics(mesh, 'node0', 'node0', 11);
  });

  it('/config_dump lists the pods with their namespace, state and listeners, and the ZDS status', async () => {
    const dump = (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
      inpod: { pods: Record<string, unknown>[]; zds: { state: { state: string }; ready: boolean } };
    };
    expect(dump.inpod.zds).toMatchObject({ state: { state: 'synced' }, snapshotReceived: true, ready: true });
    const client = mesh.workload('client');
    expect(dump.inpod.pods).toHaveLength(2);
    expect(dump.inpod.pods.find((pod) => pod['uid'] === client.uid)).toMatchObject({
      name: 'client',
      namespace: 'default',
      state: 'running',
      netns: expect.stringMatching(/^\d+:\d+$/),
      originalSource: true,
      listeners: [
        { address: '::', port: 15001, purpose: 'outbound' },
        { address: '::', port: 15006, purpose: 'plaintext' },
        { address: '::', port: 15008, purpose: 'hbone' },
      ],
    });
    expect(await (await mesh.ztunnel('node0').started.ready()).text()).toContain('ready');
  });
});
