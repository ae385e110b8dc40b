// The captured path's mesh (issue 12), built the way a user runs it: a topology of network namespaces
// (@ambient-ts/netns-topology: a bridge, node0 and node1), one node agent per node (apps/node-agent, started as
// `node apps/node-agent/src/main.ts --pods … --topology … --uds …`) that makes that node's captured pod, installs
// Istio's in-pod iptables rules inside it and hands its namespace fd over ZDS to the node's ztunnel, and two
// ztunnels in PROXY_MODE=shared as child processes in the host's network namespace (as Istio's hostNetwork
// ztunnel runs), certificates from the bench's CA. Pods:
//   A  client, node0, 10.0.2.10, captured     B  server, node1, 10.0.3.11, captured
//   C  node0, 10.0.2.2, not captured          D  node1, 10.0.3.3, not captured
// C and D are wired exactly like A and B (veth to their node, routed through it): the direct-netns and
// stunnel-netns baselines run C → D, so captured ÷ direct-netns isolates the proxies, not veth or routing costs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTopology, type PodInfo, type Topology } from '@ambient-ts/netns-topology';
import { startZtunnel, type BenchCa, type RunningZtunnel } from './mesh.ts';
import { stopChild } from './procs.ts';

const repo = join(import.meta.dirname, '../../..');
const NAMESPACE = 'bench';
/** The captured pods: the node agent of `node` makes each at `ip` (pod id = last octet). */
const CAPTURED = [
  { role: 'client', node: 'node0', ip: '10.0.2.10' },
  { role: 'server', node: 'node1', ip: '10.0.3.11' },
] as const;
/** The nodes' ztunnels and the service accounts each may request certificates for (the CA's node view). */
export const NETNS_NODES: Record<string, string[]> = { node0: ['client'], node1: ['server'] };

/** Whether the captured paths can run here; the reason is printed as the one line saying why they are skipped. */
export async function netnsSupport(): Promise<{ available: true } | { available: false; reason: string }> {
  if (process.platform !== 'linux') return { available: false, reason: 'they need Linux network namespaces' };
  if (process.getuid?.() !== 0)
    return { available: false, reason: 'they need root (network namespaces, iptables, SO_MARK)' };
  for (const tool of ['ip', 'iptables']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return { available: false, reason: `\`${tool}\` is missing (apt-get install -y iproute2 iptables)` };
  }
  try {
    const netns = await import('@ambient-ts/netns');
    const support = netns.netnsSupport();
    if (!support.available) return { available: false, reason: `@ambient-ts/netns: ${support.reason}` };
  } catch (error) {
    return { available: false, reason: `@ambient-ts/netns is not installed (${(error as Error).message})` };
  }
  return { available: true };
}

export interface NetnsPod {
  namespace: string;
  ip: string;
}

export interface NetnsMesh {
  topology: Topology;
  /** Captured pods: A (client, node0) and B (server, node1). */
  client: NetnsPod;
  server: NetnsPod;
  /** Uncaptured pods for the baselines: C (node0) and D (node1). */
  plainClient: NetnsPod;
  plainServer: NetnsPod;
  /** The shared-mode ztunnels of node0 (client side) and node1 (server side). */
  ztunnels: [RunningZtunnel, RunningZtunnel];
  /** The node agents' pids (for the machine-load accounting). */
  agentPids: number[];
  /** Stop the ztunnels and agents, delete every namespace. Idempotent, never throws. */
  close(): Promise<void>;
}

const workloads = (): string =>
  JSON.stringify({
    workloads: CAPTURED.map(({ role, node, ip }) => ({
      uid: `cluster1//v1/Pod/${NAMESPACE}/${role}`,
      name: role,
      namespace: NAMESPACE,
      serviceAccount: role,
      trustDomain: 'cluster.local',
      workloadIps: [ip],
      protocol: 'HBONE',
      node,
      workloadName: role,
      canonicalName: role,
      canonicalRevision: 'v1',
      clusterId: 'cluster1',
    })),
    services: [],
    policies: [],
  });

interface Agent {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `node-agent --pods <file> --topology <network> --uds <path> --cleanup`; resolves on `node agent ready`. */
async function startAgent(topology: Topology, node: string, dir: string, logDir: string): Promise<Agent> {
  const pods = CAPTURED.filter((pod) => pod.node === node).map(
    (pod) => `  - { name: ${pod.role}, namespace: ${NAMESPACE}, serviceAccount: ${pod.role}, ip: ${pod.ip} }`,
  );
  const podsFile = join(dir, `pods-${node}.yaml`);
  writeFileSync(podsFile, `node: ${node}\npods:\n${pods.join('\n')}\n`);
  const log = join(logDir, `node-agent-${node}.log`);
  const out = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [
      '--conditions=ambient-ts-source',
      join(repo, 'apps/node-agent/src/main.ts'),
      ...['--pods', podsFile, '--topology', topology.network, '--uds', join(dir, `zds-${node}.sock`), '--cleanup'],
    ],
    { stdio: ['ignore', 'pipe', out] },
  );
  const stop = () => stopChild(child, 5000);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node agent ${node} was not ready within 60 s; see ${log}`)),
      60_000,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      writeFileSync(log, `${line}\n`, { flag: 'a' });
      if (line.includes('"node agent ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node agent ${node} exited with ${code} before it was ready; see ${log}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { child, stop };
}

/** Every captured pod of the ztunnel's node has a running proxy in it (/config_dump's `inpod.pods`). */
async function waitPodsProxied(admin: string, node: string, wanted: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let missing = wanted;
  while (Date.now() < deadline) {
    const dump = (await fetch(`http://${admin}/config_dump`).then(
      (response) => response.json(),
      () => ({}),
    )) as { inpod?: { pods?: { name?: string; state?: string }[] } };
    const running = new Set((dump.inpod?.pods ?? []).filter((p) => p.state === 'running').map((p) => p.name));
    missing = wanted.filter((name) => !running.has(name));
    if (missing.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ztunnel ${node} runs no in-pod proxy for ${missing.join(', ')} after 30 s`);
}

/**
 * Build the topology, start the node agents (they make the captured pods and their rules), then the shared-mode
 * ztunnels (ready once the agents' snapshots are in and every pod's proxy runs). Everything is undone when a
 * step fails.
 */
export async function startNetnsMesh(ca: BenchCa, options: { logDir: string; nodeArgs: string[] }): Promise<NetnsMesh> {
  const topology = await createTopology({ nodes: 2, podsPerNode: 1 });
  const agents: Agent[] = [];
  const ztunnels: RunningZtunnel[] = [];
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await Promise.all(ztunnels.map((ztunnel) => ztunnel.stop().catch(() => {})));
      await Promise.all(agents.map((agent) => agent.stop().catch(() => {})));
      await topology.destroy();
    })());
  try {
    const dir = mkdtempSync(join(options.logDir, 'netns-'));
    const config = workloads();
    for (const [index, node] of ['node0', 'node1'].entries()) {
      agents.push(await startAgent(topology, node, dir, options.logDir));
      const ztunnel = await startZtunnel(node, `127.0.21.${3 + index}`, ca.server, await ca.token(node), {
        ...options,
        env: {
          PROXY_MODE: 'shared',
          UNSTABLE_ENABLE_SOCKS5: 'false',
          LOCAL_XDS: config,
          INPOD_UDS: join(dir, `zds-${node}.sock`),
          // Not on the data path; the default localhost:15053 would race other ztunnels on this host for it.
          ISTIO_META_DNS_CAPTURE: 'false',
        },
      });
      ztunnels.push(ztunnel);
      const wanted = CAPTURED.filter((pod) => pod.node === node).map((pod) => pod.role);
      await waitPodsProxied(ztunnel.admin, node, wanted);
    }
    const captured = (role: 'client' | 'server'): NetnsPod => {
      const spec = CAPTURED.find((pod) => pod.role === role)!;
      const namespace = `${topology.node(spec.node).namespace}-p${spec.ip.split('.')[3]}`;
      if (!existsSync(`/run/netns/${namespace}`))
        throw new Error(`the node agent of ${spec.node} made no namespace ${namespace} for ${role}`);
      return { namespace, ip: spec.ip };
    };
    const plain = (node: string): NetnsPod => {
      const pod: PodInfo = topology.node(node).pods[0]!;
      return { namespace: pod.namespace, ip: pod.ip };
    };
    return {
      topology,
      client: captured('client'),
      server: captured('server'),
      plainClient: plain('node0'),
      plainServer: plain('node1'),
      ztunnels: [ztunnels[0]!, ztunnels[1]!],
      agentPids: agents.map((agent) => agent.child.pid!),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
