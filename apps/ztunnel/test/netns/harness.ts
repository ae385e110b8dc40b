// The netns test tier's mesh (facts §9.4): a topology of network namespaces (@ambient-ts/netns-topology), one
// in-process ztunnel per node in shared mode with static config (LOCAL_XDS) naming the pods at their
// 10.0.<node>.<pod> addresses, and a fake CNI agent per ztunnel (test/inpod/fake-agent.ts) that hands it each
// captured pod's namespace fd over ZDS after the in-pod iptables rules are installed there. Applications are
// plain programs inside their pods (netns-topology's startTcpServer / tcpExchange): no SOCKS5, no proxy settings.
//
//   const mesh = await createNetnsMesh({ nodes: 1, podsPerNode: 2, workloads: [
//     { name: 'client', pod: 'node0-pod0' }, { name: 'server', pod: 'node0-pod1' } ] });
//   try { ... mesh.workload('server').ip ... } finally { await mesh.destroy(); }
//
// Root and the native addon are needed: `netnsMeshSupport` says whether and why not (for skip titles).
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { zds } from '@ambient-ts/istio-api';
import { expect } from 'vitest';
import {
  createTopology,
  installInpodRules,
  start,
  type NamespacedProcess,
  type NodeInfo,
  type PodInfo,
  type Topology,
} from '@ambient-ts/netns-topology';
import { captureSupport } from '../../src/capture-support.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually, metricValue } from '../helpers/observe.ts';
import type { AgentConnection, FakeAgent } from '../inpod/fake-agent.ts';

/** Whether the netns tier can run here; `reason` goes into the skipped suite's title. */
export async function netnsMeshSupport(): Promise<{ available: true } | { available: false; reason: string }> {
  if (process.platform !== 'linux') return { available: false, reason: 'needs Linux' };
  if (process.getuid?.() !== 0) return { available: false, reason: 'needs root' };
  const support = await captureSupport();
  if (!support.available) return { available: false, reason: `needs the native addon: ${support.reason}` };
  return { available: true };
}

export interface MeshWorkload {
  /** Workload name (also its service account unless given). */
  name: string;
  /** The topology pod it runs in, e.g. `node0-pod1`. */
  pod: string;
  /** Kubernetes namespace; default `default`. */
  namespace?: string;
  serviceAccount?: string;
  /** In the mesh: in-pod rules installed and handed to its node's ztunnel. Default true (if its node runs one). */
  captured?: boolean;
  /** Captured, but not handed to ztunnel at start (the test sends the Add itself). Default true. */
  added?: boolean;
  /** `default/<host>: { port: targetPort }` as in LocalConfig. */
  services?: Record<string, Record<number, number>>;
  /** Merged into the workload's LocalConfig entry (waypoint, applicationTunnel, …); a function gets the pods' IPs. */
  extra?: Record<string, unknown> | ((ipOf: (workload: string) => string) => Record<string, unknown>);
}

export interface MeshWorkloadInfo {
  name: string;
  namespace: string;
  serviceAccount: string;
  uid: string;
  /** SPIFFE identity. */
  identity: string;
  ip: string;
  pod: PodInfo;
  captured: boolean;
  /** Handed to ztunnel at start. */
  added: boolean;
}

export interface NetnsMeshOptions {
  nodes: number;
  podsPerNode: number;
  workloads: MeshWorkload[];
  /** LocalConfig services; a function gets the pods' IPs (a waypoint referenced by address). */
  services?: Record<string, unknown>[] | ((ipOf: (workload: string) => string) => Record<string, unknown>[]);
  policies?: Record<string, unknown>[];
  /** Topology nodes that run a ztunnel (`node0`, …); default every node. Pods elsewhere are uncaptured. */
  ztunnelNodes?: string[];
  /** Extra ztunnel environment (every ztunnel). */
  env?: Record<string, string>;
  /** Hand the captured pods to their ztunnel at start (default true). */
  addPods?: boolean;
  /** Also install the in-pod DNS redirect (UDP/TCP port 53 → 15053, facts §9.3) in captured pods. Default false. */
  dns?: boolean;
  /** Runs once the topology exists, before any ztunnel starts (e.g. an upstream nameserver in a pod). */
  beforeZtunnels?: (topology: Topology, ipOf: (workload: string) => string) => Promise<void> | void;
}

export interface NodeZtunnel {
  node: NodeInfo;
  started: StartedZtunnel;
  agent: FakeAgent;
  /** The agent's side of the ZDS connection. */
  zds: AgentConnection;
}

export interface NetnsMesh {
  readonly topology: Topology;
  readonly ztunnels: readonly NodeZtunnel[];
  /** The ztunnel of a node (`node0`). */
  ztunnel(node: string): NodeZtunnel;
  /** The ztunnel serving a workload's node. */
  ztunnelOf(workload: string): NodeZtunnel;
  workload(name: string): MeshWorkloadInfo;
  /** Send AddWorkload (with the pod's namespace fd) to its ztunnel; resolves with the Ack. */
  addPod(
    name: string,
    options?: { uid?: string; info?: Partial<zds.WorkloadInfo>; namespace?: string },
  ): Promise<zds.WorkloadResponse>;
  /** Send DelWorkload to its ztunnel; resolves with the Ack. */
  delPod(name: string, options?: { uid?: string }): Promise<zds.WorkloadResponse>;
  /**
   * Restart a node's agent: ztunnel loses the ZDS connection and reconnects; resolves once it said hello on the
   * new one (`ztunnel(node).zds`), so the caller sends the new snapshot (Add/Keep … SnapshotSent).
   */
  restartAgent(node: string): Promise<AgentConnection>;
  /** Drain every ztunnel, stop the agents, delete the namespaces. Idempotent, never throws. */
  destroy(): Promise<void>;
}

const identityOf = (namespace: string, serviceAccount: string) =>
  `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`;

/** Build the topology, start the ztunnels and agents, install the in-pod rules and add the captured pods. */
export async function createNetnsMesh(options: NetnsMeshOptions): Promise<NetnsMesh> {
  const { FakeAgent: Agent } = await import('../inpod/fake-agent.ts');
  const topology = await createTopology({ nodes: options.nodes, podsPerNode: options.podsPerNode });
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-netns-'));
  const ztunnels: NodeZtunnel[] = [];
  const ztunnelNodes = new Set(options.ztunnelNodes ?? topology.nodes.map((node) => node.name));
  const workloads = new Map<string, MeshWorkloadInfo>();
  for (const spec of options.workloads) {
    const pod = topology.pod(spec.pod);
    const namespace = spec.namespace ?? 'default';
    const serviceAccount = spec.serviceAccount ?? spec.name;
    workloads.set(spec.name, {
      name: spec.name,
      namespace,
      serviceAccount,
      uid: `cluster1//v1/Pod/${namespace}/${spec.name}`,
      identity: identityOf(namespace, serviceAccount),
      ip: pod.ip,
      pod,
      captured: (spec.captured ?? true) && ztunnelNodes.has(pod.node.name),
      added: spec.added ?? true,
    });
  }
  const ipOf = (name: string) => {
    const found = workloads.get(name);
    if (!found) throw new Error(`no workload ${name}; workloads: ${[...workloads.keys()].join(', ')}`);
    return found.ip;
  };
  const localConfig = {
    workloads: options.workloads.map((spec) => {
      const info = workloads.get(spec.name)!;
      return {
        uid: info.uid,
        name: info.name,
        namespace: info.namespace,
        serviceAccount: info.serviceAccount,
        trustDomain: 'cluster.local',
        workloadIps: [info.ip],
        protocol: info.captured ? 'HBONE' : 'TCP',
        node: info.pod.node.name,
        workloadName: info.name,
        canonicalName: info.name,
        canonicalRevision: 'v1',
        clusterId: 'cluster1',
        ...(spec.services ? { services: spec.services } : {}),
        ...(typeof spec.extra === 'function' ? spec.extra(ipOf) : spec.extra),
      };
    }),
    services: (typeof options.services === 'function' ? options.services(ipOf) : options.services) ?? [],
    policies: options.policies ?? [],
  };
  let destroyed: Promise<void> | undefined;
  const mesh: NetnsMesh = {
    topology,
    ztunnels,
    ztunnel(node) {
      const found = ztunnels.find((candidate) => candidate.node.name === node);
      if (!found) throw new Error(`no ztunnel on ${node}; ztunnels run on ${[...ztunnelNodes].join(', ')}`);
      return found;
    },
    ztunnelOf(name) {
      return mesh.ztunnel(mesh.workload(name).pod.node.name);
    },
    workload(name) {
      const found = workloads.get(name);
      if (!found) throw new Error(`no workload ${name}; workloads: ${[...workloads.keys()].join(', ')}`);
      return found;
    },
    async addPod(name, add = {}) {
      const info = mesh.workload(name);
      const fd = openSync(`/var/run/netns/${add.namespace ?? info.pod.namespace}`, 'r');
      try {
        return await mesh.ztunnelOf(name).zds.request(
          {
            add: {
              uid: add.uid ?? info.uid,
              workloadInfo: {
                name: info.name,
                namespace: info.namespace,
                serviceAccount: info.serviceAccount,
                ...add.info,
              },
            },
          },
          [fd],
        );
      } finally {
        closeSync(fd); // the kernel gave ztunnel its own copy
      }
    },
    delPod(name, del = {}) {
      const info = mesh.workload(name);
      return mesh.ztunnelOf(name).zds.request({ del: { uid: del.uid ?? info.uid } });
    },
    async restartAgent(node) {
      const entry = mesh.ztunnel(node);
      entry.agent.stop();
      entry.agent.listen();
      entry.zds = await entry.agent.connection();
      await entry.zds.hello();
      return entry.zds;
    },
    destroy() {
      destroyed ??= (async () => {
        await Promise.all(ztunnels.map((entry) => entry.started.ztunnel.drain(200).catch(() => {})));
        for (const entry of ztunnels) entry.agent.stop();
        await topology.destroy();
        rmSync(dir, { recursive: true, force: true });
      })();
      return destroyed;
    },
  };
  try {
    await options.beforeZtunnels?.(topology, ipOf);
    for (const node of topology.nodes) {
      if (!ztunnelNodes.has(node.name)) continue;
      const agent = new Agent(join(dir, `${node.name}.sock`)).listen();
      const started = await startZtunnel({
        PROXY_MODE: 'shared',
        UNSTABLE_ENABLE_SOCKS5: 'false',
        NODE_NAME: node.name,
        LOCAL_XDS: JSON.stringify(localConfig),
        INPOD_UDS: agent.path,
        CONNECTION_TERMINATION_DEADLINE: '1s',
        ...options.env,
      });
      const entry: NodeZtunnel = { node, started, agent, zds: undefined as unknown as AgentConnection };
      ztunnels.push(entry);
      entry.zds = await agent.connection();
      await entry.zds.hello();
      const ack = await entry.zds.request({ snapshotSent: {} });
      if (ack.ack?.error) throw new Error(`${node.name}: SnapshotSent was NACKed: ${ack.ack.error}`);
    }
    for (const info of workloads.values()) {
      if (!info.captured) continue;
      await installInpodRules(info.pod.namespace, { dns: options.dns ?? false });
      if (options.addPods === false || !info.added) continue;
      const response = await mesh.addPod(info.name);
      if (response.ack?.error) throw new Error(`adding ${info.name} was NACKed: ${response.ack.error}`);
    }
  } catch (error) {
    await mesh.destroy();
    throw error;
  }
  return mesh;
}

/** A client connection that stays open: prints `{"data"}` per chunk received, `{"error"}`, and `{"closed"}`. */
export interface LongLivedClient {
  readonly process: NamespacedProcess;
  /** Resolves once `text` came back (the echo of a write). */
  received(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the connection closed; rejects after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const LONG_LIVED_CLIENT = `
const net = require('node:net');
const [host, port, payload] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
socket.setEncoding('utf8');
socket.on('connect', () => socket.write(payload));
socket.on('data', (chunk) => console.log(JSON.stringify({ data: chunk })));
socket.on('error', (error) => console.log(JSON.stringify({ error: error.code ?? error.message })));
socket.on('close', () => { console.log(JSON.stringify({ closed: true })); process.exit(0); });
process.on('SIGTERM', () => process.exit(0));
`;

/** An unmodified client inside `namespace` that connects, writes `payload` and keeps the connection open. */
export function startLongLivedClient(
  namespace: string,
  target: { host: string; port: number },
  payload: string,
): LongLivedClient {
  const child = start(namespace, [
    process.execPath,
    '-e',
    LONG_LIVED_CLIENT,
    target.host,
    String(target.port),
    payload,
  ]);
  return {
    process: child,
    async received(text, timeoutMs = 5000) {
      await child.waitFor(`"data":${JSON.stringify(text).slice(0, -1)}`, timeoutMs);
    },
    async closed(timeoutMs = 5000) {
      await child.waitFor('{"closed":true}', timeoutMs);
    },
    stop: () => child.stop(),
  };
}

/** The access-log records of a node's ztunnel matching every field of `filter`. */
export const accessLines = (mesh: NetnsMesh, node: string, filter: Record<string, unknown>) =>
  mesh
    .ztunnel(node)
    .started.logs()
    .filter(
      (line) => line['scope'] === 'access' && Object.entries(filter).every(([key, value]) => line[key] === value),
    );

/**
 * One captured connection client → server:8080 through HBONE, as facts §11 #1 asserts it: both reporters count
 * exactly one mutual-TLS connection between the two SPIFFE identities with `bytes` sent and `returned` (default
 * `bytes`, an echo; twice that for a doubling echo) coming back, and both access logs name the workloads,
 * identities and addresses, with the byte fields swapped between outbound and inbound.
 */
export async function expectMeshTraffic(
  mesh: NetnsMesh,
  names: { client: string; server: string; bytes: number; returned?: number; port?: number },
): Promise<void> {
  const client = mesh.workload(names.client);
  const server = mesh.workload(names.server);
  const { bytes } = names;
  const returned = names.returned ?? bytes;
  const port = names.port ?? 8080;
  const clientNode = client.pod.node.name;
  const serverNode = server.pod.node.name;
  const labels = {
    source_workload: client.name,
    destination_workload: server.name,
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
    expect(metricValue(text, 'istio_tcp_sent_bytes_total', mine)).toBe(returned);
  }
  const outbound = await eventually(
    () => accessLines(mesh, clientNode, { direction: 'outbound', 'dst.workload': server.name }),
    (lines) => lines.some((line) => line['message'] === 'connection complete'),
  );
  expect(outbound.find((line) => line['message'] === 'connection complete')).toMatchObject({
    'src.addr': expect.stringMatching(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:\\d+$`)),
    'src.workload': client.name,
    'src.identity': client.identity,
    'dst.addr': `${server.ip}:15008`,
    'dst.hbone_addr': `${server.ip}:${port}`,
    'dst.identity': server.identity,
    bytes_sent: bytes,
    bytes_recv: returned,
  });
  const inbound = await eventually(
    () => accessLines(mesh, serverNode, { direction: 'inbound', 'dst.workload': server.name }),
    (lines) => lines.some((line) => line['message'] === 'connection complete'),
  );
  expect(inbound.find((line) => line['message'] === 'connection complete')).toMatchObject({
    'src.workload': client.name,
    'src.identity': client.identity,
    'dst.identity': server.identity,
    'dst.hbone_addr': `${server.ip}:${port}`,
    bytes_sent: returned,
    bytes_recv: bytes,
  });
}
