// Netns mode's network: one topology of @ambient-ts/netns-topology (a bridge namespace, one namespace per mesh
// node), the host linked into its bridge (172.172.0.254, routes to each node's pods), the mesh files rewritten
// for it (netns-addresses.ts) into the state dir, and the pods' namespaces. Mesh node i (in sorted order) is
// topology node id i + 2: its pods are 10.0.<i+2>.x in namespace `<network>-n<i+2>-p<x>`.
import { mkdirSync, readFileSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createTopology, linkHost, type HostLink, type Topology } from '@ambient-ts/netns-topology';
import { stringify } from 'yaml';
import { readMeshFile, type MeshFile, type MeshPod } from './mesh-file.ts';
import { translateForNetns } from './netns-addresses.ts';

export interface NetnsPlaneOptions {
  /** The user's mesh files. */
  files: string[];
  stateDir: string;
  /** The mesh's nodes (sorted), fixed for the run. */
  nodes: string[];
  /** A mapping problem, or a later edit the runner cannot follow. */
  onProblem: (text: string) => void;
  /** How long to wait for another linked topology (another netns-mode mesh) to go (default 90 s). */
  linkWaitMs?: number;
}

export class NetnsPlane {
  readonly topology: Topology;
  readonly link: HostLink;
  readonly nodeIds: ReadonlyMap<string, number>;
  /** The files the control plane serves: one netns variant per user file. */
  readonly files: string[];
  readonly options: NetnsPlaneOptions;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: NetnsPlaneOptions, topology: Topology, link: HostLink) {
    this.options = options;
    this.topology = topology;
    this.link = link;
    this.nodeIds = new Map(options.nodes.map((node, index) => [node, index + 2]));
    const dir = join(options.stateDir, 'netns');
    mkdirSync(dir, { recursive: true });
    this.files = options.files.map((file, index) => join(dir, `${index}-${basename(file)}`));
  }

  /** Builds the topology and links the host; a stale topology of a crashed run is swept first. */
  static async create(options: NetnsPlaneOptions): Promise<NetnsPlane> {
    const topology = await createTopology({ nodes: options.nodes.length, podsPerNode: 0 });
    try {
      const waitMs = options.linkWaitMs ?? 90_000;
      const link = await linkHost(topology, {
        waitMs,
        onWait: (conflict) => options.onProblem(`${conflict.message}; waiting up to ${waitMs / 1000} s for it to go`),
      });
      const plane = new NetnsPlane(options, topology, link);
      plane.writeVariants();
      return plane;
    } catch (error) {
      await topology.destroy();
      throw error;
    }
  }

  /** Rewrites every user file into its variant (only when the text changed) and returns the mesh they describe. */
  writeVariants(): MeshFile {
    this.options.files.forEach((file, index) => {
      const target = this.files[index]!;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        this.options.onProblem(`cannot read ${file}: ${(error as Error).message}`);
        return;
      }
      const translation = translateForNetns(text, file, this.nodeIds, this.link.address);
      for (const problem of translation.problems) this.options.onProblem(problem);
      writeIfChanged(target, translation.text);
    });
    return readMeshFile(this.files);
  }

  /** The node agent's pods file for a mesh node. */
  podsFile(meshNode: string): string {
    return join(this.options.stateDir, 'netns', `pods-${meshNode}.yaml`);
  }

  /**
   * Writes every node's pods file (apps/node-agent's format: the topology node, then its pods with name,
   * namespace, service account, IP and the control plane's workload uid), each only when it changed.
   */
  writePodsFiles(captured: readonly MeshPod[]): void {
    for (const [meshNode, id] of this.nodeIds) {
      const node = this.topology.nodes.find((candidate) => candidate.id === id);
      if (!node) continue;
      const pods = captured
        .filter((pod) => pod.node === meshNode && pod.ip.startsWith(`10.0.${id}.`))
        .map((pod) => ({
          name: pod.name,
          namespace: pod.namespace,
          serviceAccount: pod.serviceAccount,
          ip: pod.ip,
          uid: `Kubernetes//Pod/${pod.namespace}/${pod.name}`,
        }));
      const text = `# ${meshNode}'s captured pods, written by npm start (netns mode) from the mesh YAML\n${stringify({ node: node.name, pods })}`;
      writeIfChanged(this.podsFile(meshNode), text);
    }
  }

  /** The network namespace of the pod with this (netns) IP, from the topology's naming. */
  namespaceOf(ip: string): string | undefined {
    const match = /^10\.0\.(\d+)\.(\d+)$/.exec(ip);
    if (!match) return undefined;
    const node = this.topology.nodes.find((candidate) => candidate.id === Number(match[1]));
    return node ? `${node.namespace}-p${match[2]}` : undefined;
  }

  /** The topology node a mesh node runs as. */
  nodeOf(meshNode: string): Topology['nodes'][number] | undefined {
    const id = this.nodeIds.get(meshNode);
    return this.topology.nodes.find((node) => node.id === id);
  }

  /** Follows edits of the user's files: the variants are rewritten and `onChange` gets the new mesh. */
  watch(onChange: (mesh: MeshFile) => void): void {
    const changed = (): void => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        const mesh = this.writeVariants();
        const unknown = mesh.nodes.filter((node) => !this.nodeIds.has(node));
        if (unknown.length > 0)
          this.options.onProblem(
            `node ${unknown.join(', ')} is not in the topology (built at start with ${[...this.nodeIds.keys()].join(', ')}): restart npm start to add nodes`,
          );
        onChange(mesh);
      }, 100);
    };
    // Watch the directories: editors save by write-and-rename, which a file watch loses.
    for (const dir of new Set(this.options.files.map((file) => dirname(file)))) {
      const names = new Set(this.options.files.filter((file) => dirname(file) === dir).map((file) => basename(file)));
      this.#watchers.push(
        watch(dir, (_event, name) => (name === null || names.has(String(name)) ? changed() : undefined)),
      );
    }
  }

  /** Stops following the files, deletes every namespace of the topology and the host link. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    await this.link.unlink();
    await this.topology.destroy();
  }
}

/** Write-and-rename, only when the text changed: a watcher (control plane, node agent) never reads half a file. */
function writeIfChanged(path: string, text: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return;
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
