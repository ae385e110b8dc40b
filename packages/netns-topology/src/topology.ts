// The multi-node test topology of ztunnel's namespaced tests (facts §9.4): a "network" namespace holding a
// bridge br0 (172.172.0.1/16), one namespace per node attached to it by a veth (eth0 = 172.172.0.<node>),
// and one namespace per pod attached to its node by a veth (eth0 = 10.0.<node>.<pod>/24), every pod routed
// through its node (CNI "ptp" style, even between pods of one node). Nothing is created in the host's own
// namespace: every link is made inside, or straight into, a namespace of this topology, so interface names
// (br0, eth0, veth<n>) never collide between topologies and never reach the host. Pods can also be added and
// removed one at a time (addPod/removePod), by this process or by another one that adopted the topology by name
// (adoptTopology): everything a topology is follows from its namespaces' names, so nothing else is shared.
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
  /**
   * Leave the namespaces in place when this process exits without destroy() (default false: the exit hook
   * removes them). The sweeper still removes them once this process is gone.
   */
  keepOnExit?: boolean;
}

export interface AddPodOptions {
  /** The pod id, last octet of its address (2..253); default the lowest id no pod of the topology uses. */
  id?: number;
  /** Default `<node>-pod<j>` with the lowest j not taken on that node. */
  name?: string;
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
  /** A node by name (`node0`); throws naming the known nodes when there is none. */
  node(name: string): NodeInfo;
  /** Adds a pod to a node (by name or NodeInfo), wired exactly like createTopology's pods. */
  addPod(node: string | NodeInfo, options?: AddPodOptions): Promise<PodInfo>;
  /** Deletes a pod's namespace (and with it its veth and its node's route to it); a missing one is fine. */
  removePod(pod: string | PodInfo): Promise<void>;
  /** Every namespace of this topology, network first. */
  namespaces(): string[];
  /**
   * Kills whatever still runs in its namespaces and deletes them, including pods another process added.
   * Idempotent; never throws for a missing one.
   */
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
  const network = `${NAMESPACE_PREFIX}${process.pid.toString(36)}-${randomBytes(3).toString('hex')}`;
  const created: string[] = [];
  if (!options.keepOnExit) {
    installExitHook();
    live.set(network, created);
  }
  const addNamespace = async (name: string): Promise<void> => {
    await run(['ip', 'netns', 'add', name]);
    created.push(name);
    await ip(name, 'link', 'set', 'lo', 'up');
  };
  const nodes: NodeInfo[] = [];
  const pods: PodInfo[] = [];
  const topology = topologyOf(network, nodes, pods, created);
  try {
    await addNamespace(network);
    await ip(network, 'link', 'add', 'br0', 'type', 'bridge');
    await ip(network, 'addr', 'add', '172.172.0.1/16', 'dev', 'br0');
    await ip(network, 'link', 'set', 'br0', 'up');
    await sysctl(network, { 'net.ipv4.ip_forward': 1 });
    let podId = 2;
    for (let n = 0; n < nodeCount; n++) {
      const id = n + 2;
      const node = nodeInfo(network, id);
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
        const pod = podInfo(node, podId, `${node.name}-pod${p}`);
        await addNamespace(pod.namespace);
        await wirePod(pod);
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

/**
 * An existing topology by its network namespace's name (`Topology.network`), typically made by another process:
 * nodes and pods are read back from the namespace names (`<network>-n<id>`, `<network>-n<id>-p<id>`). Pods are
 * named `node<i>-pod<j>` in id order per node (createTopology's names while none was removed). Pods added here
 * are not removed when this process exits; destroy() removes the whole topology as createTopology's does.
 */
export async function adoptTopology(network: string): Promise<Topology> {
  const names = await listNamespaces();
  if (!names.includes(network)) throw new Error(`adoptTopology: no namespace ${network} (ip netns list)`);
  const nodes: NodeInfo[] = [];
  const pods: PodInfo[] = [];
  const own = names.filter((name) => name.startsWith(`${network}-`));
  for (const name of own) {
    const id = Number(/^-n(\d+)$/.exec(name.slice(network.length))?.[1]);
    if (id >= 2 && id <= 17) nodes.push(nodeInfo(network, id));
  }
  nodes.sort((a, b) => a.id - b.id);
  for (const node of nodes) {
    const ids = own
      .filter((name) => name.startsWith(`${node.namespace}-p`))
      .map((name) => Number(/^-p(\d+)$/.exec(name.slice(node.namespace.length))?.[1]))
      .filter((id) => id >= 2 && id <= 253)
      .sort((a, b) => a - b);
    for (const [index, id] of ids.entries()) {
      const pod = podInfo(node, id, `${node.name}-pod${index}`);
      node.pods.push(pod);
      pods.push(pod);
    }
  }
  return topologyOf(network, nodes, pods, [
    network,
    ...nodes.map((node) => node.namespace),
    ...pods.map((pod) => pod.namespace),
  ]);
}

/**
 * Adds a pod to a node of a topology (wired as createTopology wires its pods) and returns it; the node's
 * `pods` gains it. Works on any NodeInfo, also one this process did not create. On failure nothing is left.
 */
export async function addPod(node: NodeInfo, options: AddPodOptions = {}): Promise<PodInfo> {
  const network = node.namespace.slice(0, node.namespace.lastIndexOf('-n'));
  const id = options.id ?? (await freePodId(network));
  if (!Number.isInteger(id) || id < 2 || id > 253) throw new RangeError(`addPod: pod id must be 2..253, got ${id}`);
  const taken = node.pods.find((pod) => pod.id === id);
  if (taken) throw new Error(`addPod: ${node.name} already has pod ${taken.name} with id ${id} (${taken.ip})`);
  let name = options.name;
  for (let j = 0; name === undefined; j++)
    if (!node.pods.some((pod) => pod.name === `${node.name}-pod${j}`)) name = `${node.name}-pod${j}`;
  if (node.pods.some((pod) => pod.name === name)) throw new Error(`addPod: ${node.name} already has a pod ${name}`);
  const pod = podInfo(node, id, name);
  await run(['ip', 'netns', 'add', pod.namespace]);
  try {
    await ip(pod.namespace, 'link', 'set', 'lo', 'up');
    await wirePod(pod);
  } catch (error) {
    await deleteNamespaces([pod.namespace]);
    throw error;
  }
  node.pods.push(pod);
  return pod;
}

/** Deletes the pod's namespace (its veth and its node's route go with it) and drops it from its node. */
export async function removePod(pod: PodInfo): Promise<void> {
  await deleteNamespaces([pod.namespace]);
  const index = pod.node.pods.indexOf(pod);
  if (index >= 0) pod.node.pods.splice(index, 1);
}

function topologyOf(network: string, nodes: NodeInfo[], pods: PodInfo[], created: string[]): Topology {
  const findPod = (name: string): PodInfo => {
    const pod = pods.find((candidate) => candidate.name === name);
    if (!pod) throw new Error(`no pod ${name} in ${network}; pods: ${pods.map((p) => p.name).join(', ')}`);
    return pod;
  };
  const findNode = (name: string): NodeInfo => {
    const node = nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} in ${network}; nodes: ${nodes.map((n) => n.name).join(', ')}`);
    return node;
  };
  const forget = (pod: PodInfo): void => {
    if (pods.includes(pod)) pods.splice(pods.indexOf(pod), 1);
    if (created.includes(pod.namespace)) created.splice(created.indexOf(pod.namespace), 1);
  };
  return {
    network,
    nodes,
    pods,
    pod: findPod,
    node: findNode,
    async addPod(which, options = {}) {
      const node = typeof which === 'string' ? findNode(which) : which;
      if (options.name !== undefined && pods.some((pod) => pod.name === options.name))
        throw new Error(`addPod: ${network} already has a pod ${options.name}`);
      const pod = await addPod(node, options);
      pods.push(pod);
      created.push(pod.namespace);
      return pod;
    },
    async removePod(which) {
      const pod = typeof which === 'string' ? findPod(which) : which;
      await removePod(pod);
      forget(pod);
    },
    namespaces: () => [...created],
    destroy: once(async () => {
      // Pods someone else added (adoptTopology in another process) go too, pods before their nodes.
      const others = (await listNamespaces().catch(() => []))
        .filter((name) => name.startsWith(`${network}-`) && !created.includes(name))
        .sort((a, b) => b.length - a.length);
      await deleteNamespaces([...others, ...[...created].reverse()]);
      live.delete(network);
    }),
  };
}

function nodeInfo(network: string, id: number): NodeInfo {
  return { name: `node${id - 2}`, id, namespace: `${network}-n${id}`, ip: `172.172.0.${id}`, pods: [] };
}

function podInfo(node: NodeInfo, id: number, name: string): PodInfo {
  return {
    name,
    id,
    node,
    namespace: `${node.namespace}-p${id}`,
    ip: `10.0.${node.id}.${id}`,
    gateway: `10.0.${node.id}.1`,
  };
}

/** The pod's veth to its node, addresses and routes (its namespace exists, lo is up). */
async function wirePod(pod: PodInfo): Promise<void> {
  const { node } = pod;
  const podVeth = `veth${pod.id}`;
  await ip(node.namespace, 'link', 'add', podVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.namespace);
  await ip(node.namespace, 'addr', 'add', `${pod.gateway}/32`, 'dev', podVeth);
  await ip(node.namespace, 'link', 'set', podVeth, 'up');
  await ip(node.namespace, 'route', 'add', pod.ip, 'dev', podVeth, 'scope', 'link');
  await sysctl(node.namespace, { [`net.ipv4.conf.${podVeth}.rp_filter`]: 0 });
  await ip(pod.namespace, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
  await ip(pod.namespace, 'link', 'set', 'eth0', 'up');
  await ip(pod.namespace, 'route', 'add', pod.gateway, 'dev', 'eth0', 'scope', 'link', 'src', pod.ip);
  await ip(pod.namespace, 'route', 'replace', `10.0.${node.id}.0/24`, 'via', pod.gateway, 'dev', 'eth0', 'src', pod.ip);
  await ip(pod.namespace, 'route', 'add', 'default', 'via', pod.gateway, 'dev', 'eth0');
}

/** The lowest pod id no pod namespace of the network uses (as listed now, so other processes' pods count). */
async function freePodId(network: string): Promise<number> {
  const used = (await listNamespaces())
    .map((name) => (name.startsWith(`${network}-n`) ? Number(/-p(\d+)$/.exec(name)?.[1]) : Number.NaN))
    .filter((id) => Number.isInteger(id));
  return lowestFree(used);
}

function lowestFree(used: readonly number[]): number {
  for (let id = 2; id <= 253; id++) if (!used.includes(id)) return id;
  throw new RangeError('addPod: all pod ids 2..253 are taken');
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
