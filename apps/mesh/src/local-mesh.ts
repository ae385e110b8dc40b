// The whole mesh on one machine: the control plane, one ztunnel per node, the waypoints (all as child
// processes, as they run for real), the sample echo workloads and the JWT issuer (in this process).
// Two modes (README "Modes"): loopback — pods are loopback IPs, ztunnels in node mode, clients through SOCKS5;
// netns — pods are network namespaces (netns-plane.ts), ztunnels in shared mode fed by a node agent per node
// over ZDS, waypoints inside their pods, clients are plain HTTP clients run inside their pods.
import { closeSync, openSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { startJwtIssuer, type JwtIssuer } from './jwt-issuer.ts';
import { forgetProcesses, recordProcesses, stopLeftovers } from './leftovers.ts';
import { readMeshFile, type MeshFile, type MeshPod } from './mesh-file.ts';
import { NetnsPlane } from './netns-plane.ts';
import { inPodClient, socksClient, type PodClient } from './pod-client.ts';
import { startEchoApp } from './sample-apps.ts';
import { Supervised } from './supervisor.ts';

export type MeshMode = 'loopback' | 'netns';

const repo = resolve(import.meta.dirname, '../../..');
const scripts = {
  controlplane: join(repo, 'apps/controlplane/src/cli.ts'),
  ztunnel: join(repo, 'apps/ztunnel/src/main.ts'),
  waypoint: join(repo, 'apps/waypoint/src/main.ts'),
  nodeAgent: join(repo, 'apps/node-agent/src/main.ts'),
};

/**
 * A smaller young generation for the proxies: Node's default lets each proxy pause 10–30 ms every few
 * seconds under load, which two proxies in series turn into a p99 of several ms (tools/bench/ztunnel).
 */
const proxyNodeArgs = ['--max-semi-space-size=8'];
/** ztunnel's DNS proxy port (ISTIO_META_DNS_PROXY_ADDR; in netns mode each pod's own localhost:15053). */
const DNS_PORT = 15053;

export interface LocalMeshOptions {
  files: string[];
  stateDir: string;
  /** Default loopback (main.ts picks netns when it runs as root on Linux). */
  mode?: MeshMode;
  /** Called with every JSON log line of every process. */
  onLine?: (role: string, line: Record<string, unknown>) => void;
  /** Called for process events (crash, restart). */
  onEvent?: (role: string, text: string) => void;
}

export interface NodeEndpoints {
  node: string;
  /** Loopback address the node's ztunnel serves its operator ports (and SOCKS5, in loopback mode) on. */
  ip: string;
  socks: { host: string; port: number };
  admin: string;
  metrics: string;
}

export interface WaypointEndpoints {
  name: string;
  namespace: string;
  node: string;
  podIp: string;
  /** Where its admin/metrics/readiness listen: a loopback address, or (netns mode) its pod IP. */
  operatorIp: string;
  admin: string;
  metrics: string;
}

/** Poll a readiness endpoint until it answers 200 (ztunnel: xDS synced and listeners bound). */
async function waitReady(role: string, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return;
      last = (await response.text()).trim();
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${role} did not become ready within ${timeoutMs / 1000} s (${last})`);
}

export class LocalMesh {
  /** The mesh as served: in netns mode, with the netns addresses (after start). */
  mesh: MeshFile;
  readonly options: LocalMeshOptions;
  readonly mode: MeshMode;
  readonly processes: Supervised[] = [];
  readonly nodes: NodeEndpoints[];
  waypointEndpoints: WaypointEndpoints[];
  /** The echo apps by pod (`namespace/name`), with the pod namespace's inode they listen in (netns mode). */
  readonly apps = new Map<string, { inode: number | undefined; servers: Server[] }>();
  #appWork: Promise<void> = Promise.resolve();
  #podWork: Promise<void> = Promise.resolve();
  issuers: JwtIssuer[] = [];
  /** How sample clients make requests from their pods. */
  readonly client: PodClient;
  /** Netns mode: the topology, host link and translated files (after start). */
  plane: NetnsPlane | undefined;
  /** Where the control plane serves xDS + CA (both ports bind this host). */
  controlPlaneHost = '127.0.0.1';
  readonly #killOnExit = (): void => {
    for (const process of this.processes) process.crash();
  };

  constructor(mesh: MeshFile, options: LocalMeshOptions) {
    this.mesh = mesh;
    this.options = options;
    this.mode = options.mode ?? 'loopback';
    this.client =
      this.mode === 'netns'
        ? inPodClient((pod) => this.plane?.namespaceOf(pod.ip))
        : socksClient(
            (pod) => this.socksFor(pod.name, pod.namespace),
            (pod) => this.dnsFor(pod.name, pod.namespace),
          );
    this.nodes = mesh.nodes.map((node, index) => {
      const ip = `127.0.100.${index + 1}`;
      return {
        node,
        ip,
        socks: { host: ip, port: 15080 },
        admin: `http://${ip}:15000`,
        metrics: `http://${ip}:15020/stats/prometheus`,
      };
    });
    this.waypointEndpoints = this.#waypoints();
  }

  #waypoints(): WaypointEndpoints[] {
    return this.mesh.waypoints.map((waypoint, index) => {
      // Netns mode: the waypoint runs in its own pod namespace, where only its pod IP reaches it from the host.
      const ip = this.mode === 'netns' ? waypoint.ip : `127.0.101.${index + 1}`;
      return {
        name: waypoint.name,
        namespace: waypoint.namespace,
        node: waypoint.node,
        podIp: waypoint.ip,
        operatorIp: ip,
        admin: `http://${ip}:15000`,
        metrics: `http://${ip}:15020/stats/prometheus`,
      };
    });
  }

  #supervise(spec: ConstructorParameters<typeof Supervised>[0]): Supervised {
    const process = new Supervised(
      { ...spec, onSpawn: () => this.#recordProcesses() },
      (role, line) => {
        this.#observe(role, line);
        this.options.onLine?.(role, line);
      },
      this.options.onEvent ?? (() => {}),
    );
    this.processes.push(process);
    return process;
  }

  /** Bring everything up in dependency order; rejects (having stopped what started) on the first failure. */
  async start(): Promise<void> {
    process.once('exit', this.#killOnExit);
    try {
      await this.#start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The running children, in the state dir: the next start stops them if this runner dies without stop(). */
  #recordProcesses(): void {
    recordProcesses(
      this.options.stateDir,
      this.processes.flatMap((child) =>
        child.pid === undefined ? [] : [{ pid: child.pid, role: child.spec.role, script: child.spec.script }],
      ),
    );
  }

  async #start(): Promise<void> {
    const { stateDir } = this.options;
    const leftovers = stopLeftovers(stateDir);
    if (leftovers.length > 0)
      this.options.onEvent?.('mesh', `stopped what a previous run left running: ${leftovers.join(', ')}`);
    let files = this.options.files;
    if (this.mode === 'netns') {
      this.plane = await NetnsPlane.create({
        files,
        stateDir,
        nodes: this.mesh.nodes,
        onProblem: (text) => this.options.onEvent?.('netns', text),
      });
      this.mesh = this.plane.writeVariants();
      this.waypointEndpoints = this.#waypoints();
      this.controlPlaneHost = this.plane.link.address;
      files = this.plane.files;
      await this.#syncPods();
    }
    const controlPlane = this.#supervise({
      role: 'controlplane',
      script: scripts.controlplane,
      args: ['serve', '--state-dir', stateDir, '--log-format', 'json', '--host', this.controlPlaneHost, ...files],
      env: {},
      readyWhen: (line) => String(line['message']).includes('watching the YAML'),
    });
    await controlPlane.start();
    for (const { issuer, jwksUri } of this.mesh.jwtIssuers) {
      if (!this.issuers.some((existing) => existing.issuer === issuer))
        this.issuers.push(await startJwtIssuer(issuer, jwksUri));
    }
    // Loopback mode: the apps listen before the ztunnels start; netns mode: once the agents made their pods.
    if (this.mode !== 'netns') await this.#startApps();
    else await Promise.all(this.nodes.map((node) => this.#startNodeAgent(node.node)));
    // ztunnels run in the host's namespace (hostNetwork, as Istio runs them) and reach the control plane there.
    const controlPlaneUrl = `https://${this.mode === 'netns' ? this.controlPlaneHost : 'localhost'}:15012`;
    const common = {
      XDS_ADDRESS: controlPlaneUrl,
      CA_ADDRESS: controlPlaneUrl,
      XDS_ROOT_CA: join(stateDir, 'root-cert.pem'),
      CA_ROOT_CA: join(stateDir, 'root-cert.pem'),
      LOG_FORMAT: 'json',
      RUST_LOG: 'info',
    };
    await Promise.all(
      this.nodes.map((node) =>
        this.#supervise({
          role: `ztunnel ${node.node}`,
          script: scripts.ztunnel,
          nodeArgs: proxyNodeArgs,
          env: {
            ...common,
            NODE_NAME: node.node,
            POD_NAME: `ztunnel-${node.node}`,
            POD_NAMESPACE: 'istio-system',
            AUTH_TOKEN: join(stateDir, 'tokens', node.node),
            ADMIN_ADDR: `${node.ip}:15000`,
            STATS_ADDR: `${node.ip}:15020`,
            READINESS_ADDR: `${node.ip}:15021`,
            ...(this.mode === 'netns'
              ? { PROXY_MODE: 'shared', INPOD_UDS: this.zdsSocket(node.node) }
              : {
                  PROXY_MODE: 'node',
                  UNSTABLE_ENABLE_SOCKS5: 'true',
                  SOCKS5_ADDR: `${node.ip}:15080`,
                  // one DNS proxy per node IP, so the ztunnels sharing this host do not collide on localhost:15053
                  ISTIO_META_DNS_PROXY_ADDR: `${node.ip}:${DNS_PORT}`,
                }),
          },
          readyWhen: (line) => line['message'] === 'ztunnel started',
        })
          .start()
          .then(() => waitReady(`ztunnel ${node.node}`, `http://${node.ip}:15021/healthz/ready`))
          .then(() => (this.mode === 'netns' ? this.#waitPodsProxied(node) : undefined)),
      ),
    );
    if (this.mode === 'netns') await this.#startApps();
    await Promise.all(
      this.waypointEndpoints.map((waypoint) =>
        this.#supervise({
          role: `waypoint ${waypoint.namespace}/${waypoint.name}`,
          script: scripts.waypoint,
          nodeArgs: proxyNodeArgs,
          // Netns mode: inside its own (uncaptured) pod, reaching the control plane through the host link.
          ...(this.mode === 'netns'
            ? { namespace: this.#namespaceOf(waypoint.podIp, `waypoint ${waypoint.name}`) }
            : {}),
          env: {
            ...common,
            POD_NAME: `${waypoint.name}-0`,
            POD_NAMESPACE: waypoint.namespace,
            SERVICE_ACCOUNT: waypoint.name,
            GATEWAY_NAME: waypoint.name,
            INSTANCE_IP: waypoint.podIp,
            AUTH_TOKEN: join(stateDir, 'tokens', `waypoint-${waypoint.namespace}-${waypoint.name}`),
            ADMIN_ADDR: `${waypoint.operatorIp}:15000`,
            STATS_ADDR: `${waypoint.operatorIp}:15020`,
            READINESS_ADDR: `${waypoint.operatorIp}:15021`,
          },
          readyWhen: (line) => String(line['message']).startsWith('waypoint started'),
        })
          .start()
          .then(() =>
            waitReady(
              `waypoint ${waypoint.namespace}/${waypoint.name}`,
              `http://${waypoint.operatorIp}:15021/healthz/ready`,
            ),
          ),
      ),
    );
    // Edits: the variants follow the user's files at once; pods (and their apps) follow what the control plane
    // accepted, so a refused edit changes nothing, as it changes nothing the control plane serves.
    this.plane?.watch(() => undefined);
  }

  /** What the runner follows in its children's logs (netns mode): accepted configs and the agents' pods. */
  #observe(role: string, line: Record<string, unknown>): void {
    if (!this.plane) return;
    const message = String(line['message'] ?? line['msg']);
    if (role === 'controlplane' && /^config version \d+ accepted/.test(message)) {
      this.mesh = readMeshFile(this.plane.files);
      void this.#syncPods().catch((error: unknown) =>
        this.options.onEvent?.('netns', `pods not updated: ${(error as Error).message}`),
      );
    } else if (role.startsWith('node-agent') && (message === 'pod ready' || message === 'pod removed')) {
      // The agent (re)made or removed a captured pod: its apps move to the new namespace, or go.
      this.#followApps(String(line['pod']));
    }
  }

  /** Every pod's apps; rejects with the first failure (e.g. a port another process holds). */
  async #startApps(): Promise<void> {
    const results = await Promise.allSettled(
      this.mesh.pods.map((pod) => this.#queueApps(`${pod.namespace}/${pod.name}`)),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * (Re)starts or stops a pod's apps after the work queued before (one at a time, never twice at once). The
   * returned promise rejects when that fails; later work goes on regardless.
   */
  #queueApps(key: string): Promise<void> {
    const work = this.#appWork.then(() => this.#syncApps(key));
    this.#appWork = work.catch(() => undefined);
    return work;
  }

  /** #queueApps for events: a failure is reported, not thrown. */
  #followApps(key: string): void {
    this.#queueApps(key).catch((error: unknown) =>
      this.options.onEvent?.('mesh', `apps of ${key}: ${(error as Error).message}`),
    );
  }

  /**
   * The pod's echo apps run where the pod is: none when it left the mesh file (or has no namespace), in its
   * current namespace otherwise (restarted when the namespace was made anew).
   */
  async #syncApps(key: string): Promise<void> {
    const pod = this.mesh.pods.find((candidate) => `${candidate.namespace}/${candidate.name}` === key);
    const running = this.apps.get(key);
    let inode: number | undefined;
    if (pod && this.mode === 'netns') {
      const namespace = this.plane?.namespaceOf(pod.ip);
      try {
        inode = namespace ? statSync(`/run/netns/${namespace}`).ino : undefined;
      } catch {
        inode = undefined; // not made (yet): the agent's "pod ready" brings it back here
      }
    }
    const wanted = pod !== undefined && pod.ports.length > 0 && (this.mode !== 'netns' || inode !== undefined);
    if (running && wanted && running.inode === inode) return;
    if (running) {
      for (const server of running.servers) server.close();
      this.apps.delete(key);
    }
    if (!wanted) return;
    const servers: Server[] = [];
    this.apps.set(key, { inode, servers });
    for (const port of pod.ports) servers.push(await this.#startApp(pod, port.containerPort));
  }

  /**
   * Netns mode: the node agent of a node (Istio's CNI node agent's part): it makes the node's captured pods
   * from its pods file, installs the in-pod rules and hands their namespaces to the node's ztunnel over ZDS.
   */
  async #startNodeAgent(node: string): Promise<void> {
    const plane = this.plane!;
    await this.#supervise({
      role: `node-agent ${node}`,
      script: scripts.nodeAgent,
      args: [
        '--pods',
        plane.podsFile(node),
        '--uds',
        this.zdsSocket(node),
        '--topology',
        plane.topology.network,
        '--log-level',
        'info',
        // the pods' port-53 traffic goes to their ztunnel's DNS proxy on 15053 (facts §9.3)
        '--dns',
      ],
      env: {},
      readyWhen: (line) => line['msg'] === 'node agent ready',
    }).start();
  }

  /** Netns mode: every captured pod of the node has its proxy running in the node's ztunnel (/config_dump). */
  async #waitPodsProxied(node: NodeEndpoints, timeoutMs = 30_000): Promise<void> {
    const wanted = this.mesh.pods.filter((pod) => pod.ambient && pod.node === node.node);
    const deadline = Date.now() + timeoutMs;
    let missing = wanted.map((pod) => `${pod.namespace}/${pod.name}`);
    while (Date.now() < deadline) {
      try {
        const dump = (await (
          await fetch(`${node.admin}/config_dump`, { signal: AbortSignal.timeout(1000) })
        ).json()) as {
          inpod?: { pods?: { name?: string; namespace?: string; state?: string }[] };
        };
        const running = new Set(
          (dump.inpod?.pods ?? [])
            .filter((pod) => pod.state === 'running')
            .map((pod) => `${pod.namespace}/${pod.name}`),
        );
        missing = wanted.map((pod) => `${pod.namespace}/${pod.name}`).filter((key) => !running.has(key));
        if (missing.length === 0) return;
      } catch {
        // not answering yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `ztunnel ${node.node} runs no proxy for ${missing.join(', ')} after ${timeoutMs / 1000} s (see node-agent ${node.node})`,
    );
  }

  /** Netns mode: the node agent's ZDS socket for a node (ztunnel connects, the agent listens). */
  zdsSocket(node: string): string {
    return join(this.options.stateDir, 'netns', `zds-${node}.sock`);
  }

  #namespaceOf(ip: string, what: string): string {
    const namespace = this.plane?.namespaceOf(ip);
    if (!namespace) throw new Error(`${what}: ${ip} is not a pod address of the topology`);
    return namespace;
  }

  /** An echo server for one container port: on the pod's loopback IP, or inside the pod's namespace. */
  async #startApp(pod: MeshPod, port: number): Promise<Server> {
    const app = { name: pod.name, namespace: pod.namespace, version: pod.labels['version'] ?? 'v1', ip: pod.ip, port };
    if (this.mode !== 'netns') return startEchoApp(app);
    const fd = openSync(`/run/netns/${this.#namespaceOf(pod.ip, `pod ${pod.namespace}/${pod.name}`)}`, 'r');
    try {
      return await startEchoApp({ ...app, netns: fd });
    } finally {
      closeSync(fd); // the listening socket keeps the namespace
    }
  }

  /**
   * Netns mode: the pods files of the node agents list the captured pods; the pods outside the mesh (and the
   * waypoints, which are uncaptured pods) are made here, as a cluster's CNI makes every pod and Istio's node
   * agent only sets up the ambient ones. Pods that left the mesh file are removed.
   */
  #syncPods(): Promise<void> {
    const work = this.#podWork.then(() => this.#syncPodsNow());
    this.#podWork = work.catch(() => undefined);
    return work;
  }

  async #syncPodsNow(): Promise<void> {
    const plane = this.plane;
    if (!plane) return;
    plane.writePodsFiles(this.mesh.pods.filter((pod) => pod.ambient));
    const wanted = new Map<string, { node: string; ip: string; name: string }>();
    for (const pod of this.mesh.pods.filter((candidate) => !candidate.ambient))
      wanted.set(pod.ip, { node: pod.node, ip: pod.ip, name: `${pod.namespace}.${pod.name}` });
    for (const waypoint of this.mesh.waypoints)
      wanted.set(waypoint.ip, { node: waypoint.node, ip: waypoint.ip, name: `${waypoint.namespace}.${waypoint.name}` });
    for (const pod of [...plane.topology.pods]) {
      const want = wanted.get(pod.ip);
      if (!want || want.name !== pod.name) await plane.topology.removePod(pod);
    }
    for (const want of wanted.values()) {
      if (plane.topology.pods.some((pod) => pod.ip === want.ip)) continue;
      const node = plane.nodeOf(want.node);
      const id = Number(want.ip.split('.')[3]);
      if (!node || want.ip !== `10.0.${node.id}.${id}`) {
        this.options.onEvent?.(
          'netns',
          `pod ${want.name}: ${want.ip} is not an address of node ${want.node}; not created`,
        );
        continue;
      }
      await plane.topology.addPod(node, { id, name: want.name });
    }
    // Apps of uncaptured pods (made here) and of pods that left the file.
    const keys = new Set([...this.mesh.pods.map((pod) => `${pod.namespace}/${pod.name}`), ...this.apps.keys()]);
    for (const key of keys) this.#followApps(key);
  }

  /** The SOCKS5 address of the ztunnel serving a pod, or undefined for pods outside the mesh. */
  socksFor(podName: string, namespace: string): { host: string; port: number } | undefined {
    const pod = this.mesh.pods.find((candidate) => candidate.name === podName && candidate.namespace === namespace);
    if (!pod?.ambient) return undefined;
    return this.nodes.find((node) => node.node === pod.node)?.socks;
  }

  /** Loopback mode: the DNS proxy address of the ztunnel serving a pod (its node IP, 15053), or undefined. */
  dnsFor(podName: string, namespace: string): { host: string; port: number } | undefined {
    const pod = this.mesh.pods.find((candidate) => candidate.name === podName && candidate.namespace === namespace);
    if (!pod?.ambient) return undefined;
    const node = this.nodes.find((candidate) => candidate.node === pod.node);
    return node ? { host: node.ip, port: DNS_PORT } : undefined;
  }

  /** A control plane message with the netns variants' paths shown as the user's files (lines are the same). */
  displayText(text: string): string {
    let out = text;
    this.plane?.files.forEach((variant, index) => (out = out.replaceAll(variant, this.options.files[index]!)));
    return out;
  }

  /** Stop in reverse order: traffic sources first, the control plane last, then the namespaces. */
  async stop(): Promise<void> {
    await this.#appWork;
    for (const { servers } of this.apps.values()) for (const server of servers) server.close();
    this.apps.clear();
    for (const issuer of this.issuers.splice(0)) issuer.close();
    const [controlPlane, ...proxies] = this.processes;
    await Promise.all(proxies.map((process) => process.stop()));
    await controlPlane?.stop();
    forgetProcesses(this.options.stateDir);
    await this.plane?.stop();
    process.removeListener('exit', this.#killOnExit);
  }
}
