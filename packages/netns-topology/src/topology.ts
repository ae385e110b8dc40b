// The multi-node test topology of ztunnel's namespaced tests (facts §9.4): a "network" namespace holding a
// bridge br0 (172.172.0.1/16), one namespace per node attached to it by a veth (eth0 = 172.172.0.<node>),
// and one namespace per pod attached to its node by a veth (eth0 = 10.0.<node>.<pod>/24), every pod routed
// through its node (CNI "ptp" style, even between pods of one node). Nothing is created in the host's own
// namespace: every link is made inside, or straight into, a namespace of this topology, so interface names
// (br0, eth0, veth<n>) never collide between topologies and never reach the host.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { exec, run } from './exec.ts';

/** Every namespace this tool creates starts with this; the sweeper only ever touches these names. */
export const NAMESPACE_PREFIX = 'atn-';
const NAME = /^atn-([0-9a-z]+)-[0-9a-f]{6}(?:-.*)?$/;

export interface TopologyOptions {
  /** 1..16 nodes (ids 2..17). */
  nodes: number;
  /** Pods on every node; at most 252 pods in all (ids 2..253, one counter across nodes). */
  podsPerNode: number;
}

export interface PodInfo {
  /** `node<i>-pod<j>` (0-based indexes), the key of `Topology.pod`. */
  name: string;
  /** The pod id: last octet of its address. */
  id: number;
  node: NodeInfo;
  namespace: string;
  ip: string;
  /** 10.0.<node>.1, the node's side of the pod's veth. */
  gateway: string;
}

export interface NodeInfo {
  /** `node<i>` (0-based). */
  name: string;
  /** The node id: third octet of its pods' addresses, last octet of its 172.172.0.x address. */
  id: number;
  namespace: string;
  ip: string;
  pods: PodInfo[];
}

export interface Topology {
  /** The bridge's namespace; every other namespace's name starts with it. */
  readonly network: string;
  readonly nodes: readonly NodeInfo[];
  readonly pods: readonly PodInfo[];
  /** A pod by name (`node0-pod1`); throws naming the known pods when there is none. */
  pod(name: string): PodInfo;
  /** Every namespace of this topology, network first. */
  namespaces(): string[];
  /** Kills whatever still runs in its namespaces and deletes them. Idempotent; never throws for a missing one. */
  destroy(): Promise<void>;
}

const live = new Map<string, string[]>();
let exitHookInstalled = false;
let swept = false;

/** Builds the topology; on any failure everything already created is removed before the error propagates. */
export async function createTopology(options: TopologyOptions): Promise<Topology> {
  const { nodes: nodeCount, podsPerNode } = options;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16)
    throw new RangeError(`createTopology: nodes must be 1..16, got ${nodeCount}`);
  if (!Number.isInteger(podsPerNode) || podsPerNode < 0 || nodeCount * podsPerNode > 252)
    throw new RangeError(`createTopology: nodes × podsPerNode must be 0..252, got ${nodeCount} × ${podsPerNode}`);
  if (!swept) {
    swept = true;
    await sweepStaleNamespaces();
  }
  installExitHook();
  const network = `${NAMESPACE_PREFIX}${process.pid.toString(36)}-${randomBytes(3).toString('hex')}`;
  const created: string[] = [];
  live.set(network, created);
  const addNamespace = async (name: string): Promise<void> => {
    await run(['ip', 'netns', 'add', name]);
    created.push(name);
    await ip(name, 'link', 'set', 'lo', 'up');
  };
  const nodes: NodeInfo[] = [];
  const pods: PodInfo[] = [];
  const topology: Topology = {
    network,
    nodes,
    pods,
    pod(name) {
      const pod = pods.find((candidate) => candidate.name === name);
      if (!pod) throw new Error(`no pod ${name} in ${network}; pods: ${pods.map((p) => p.name).join(', ')}`);
      return pod;
    },
    namespaces: () => [...created],
    destroy: once(async () => {
      await deleteNamespaces([...created].reverse());
      live.delete(network);
    }),
  };
  try {
    await addNamespace(network);
    await ip(network, 'link', 'add', 'br0', 'type', 'bridge');
    await ip(network, 'addr', 'add', '172.172.0.1/16', 'dev', 'br0');
    await ip(network, 'link', 'set', 'br0', 'up');
    await sysctl(network, { 'net.ipv4.ip_forward': 1 });
    let podId = 2;
    for (let n = 0; n < nodeCount; n++) {
      const id = n + 2;
      const node: NodeInfo = { name: `node${n}`, id, namespace: `${network}-n${id}`, ip: `172.172.0.${id}`, pods: [] };
      await addNamespace(node.namespace);
      await sysctl(node.namespace, {
        'net.ipv4.ip_forward': 1,
        'net.ipv4.conf.all.rp_filter': 0,
        'net.ipv4.conf.default.rp_filter': 0,
      });
      const veth = `veth${id}`;
      await ip(network, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.namespace);
      await ip(network, 'link', 'set', veth, 'master', 'br0', 'up');
      await ip(network, 'route', 'add', `10.0.${id}.0/24`, 'via', node.ip, 'dev', 'br0');
      await ip(node.namespace, 'addr', 'add', `${node.ip}/16`, 'dev', 'eth0');
      await ip(node.namespace, 'link', 'set', 'eth0', 'up');
      await ip(node.namespace, 'route', 'add', 'default', 'via', '172.172.0.1');
      for (const other of nodes) {
        await ip(node.namespace, 'route', 'add', `10.0.${other.id}.0/24`, 'via', other.ip, 'dev', 'eth0');
        await ip(other.namespace, 'route', 'add', `10.0.${id}.0/24`, 'via', node.ip, 'dev', 'eth0');
      }
      nodes.push(node);
      for (let p = 0; p < podsPerNode; p++, podId++) {
        const pod: PodInfo = {
          name: `${node.name}-pod${p}`,
          id: podId,
          node,
          namespace: `${node.namespace}-p${podId}`,
          ip: `10.0.${id}.${podId}`,
          gateway: `10.0.${id}.1`,
        };
        await addNamespace(pod.namespace);
        const podVeth = `veth${podId}`;
        await ip(
          node.namespace,
          'link',
          'add',
          podVeth,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'netns',
          pod.namespace,
        );
        await ip(node.namespace, 'addr', 'add', `${pod.gateway}/32`, 'dev', podVeth);
        await ip(node.namespace, 'link', 'set', podVeth, 'up');
        await ip(node.namespace, 'route', 'add', pod.ip, 'dev', podVeth, 'scope', 'link');
        await sysctl(node.namespace, { [`net.ipv4.conf.${podVeth}.rp_filter`]: 0 });
        await ip(pod.namespace, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
        await ip(pod.namespace, 'link', 'set', 'eth0', 'up');
        await ip(pod.namespace, 'route', 'add', pod.gateway, 'dev', 'eth0', 'scope', 'link', 'src', pod.ip);
        await ip(
          pod.namespace,
          'route',
          'replace',
          `10.0.${id}.0/24`,
          'via',
          pod.gateway,
          'dev',
          'eth0',
          'src',
          pod.ip,
        );
        await ip(pod.namespace, 'route', 'add', 'default', 'via', pod.gateway, 'dev', 'eth0');
        node.pods.push(pod);
        pods.push(pod);
      }
    }
  } catch (error) {
    await topology.destroy();
    throw error;
  }
  return topology;
}

/** Namespaces currently present (`ip netns list`), names only. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return parseNamespaceList(stdout);
}

/**
 * Deletes namespaces with this tool's prefix that a previous run left behind: the process that created them
 * (its pid is in the name) is gone, or is a newer process that reused the pid. Returns the names it deleted.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const stale = (await listNamespaces()).filter((name) => isStale(name));
  await deleteNamespaces(stale);
  return stale;
}

function isStale(name: string): boolean {
  const match = NAME.exec(name);
  if (!match?.[1]) return false;
  const pid = Number.parseInt(match[1], 36);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // Alive: stale only if that process started after the namespace was made (the pid was reused).
    return processStartMs(pid) > statSync(`/run/netns/${name}`).mtimeMs + 2_000;
  } catch {
    return false;
  }
}

/** When a process started (epoch ms): boot time + its start time in clock ticks (USER_HZ = 100 on Linux). */
function processStartMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  const startTicks = Number(fields[22 - 3]);
  const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
  return bootSeconds * 1_000 + startTicks * 10;
}

async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const pids = await run(['ip', 'netns', 'pids', name]).then(
      ({ stdout }) => stdout.split(/\s+/).filter(Boolean).map(Number),
      () => [],
    );
    for (const pid of pids) killQuietly(pid);
    await run(['ip', 'netns', 'del', name]).catch(() => undefined);
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a test process that exits without calling destroy() (afterAll skipped, crash in a hook).
  process.once('exit', () => {
    for (const names of live.values())
      for (const name of [...names].reverse()) {
        try {
          for (const pid of execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' })
            .split(/\s+/)
            .filter(Boolean))
            killQuietly(Number(pid));
          execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

function parseNamespaceList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

function ip(namespace: string, ...args: string[]): Promise<unknown> {
  return run(['ip', '-n', namespace, ...args]);
}

function sysctl(namespace: string, settings: Record<string, number>): Promise<unknown> {
  return exec(namespace, ['sysctl', '-q', '-w', ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)]);
}

function once(action: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= action());
}
