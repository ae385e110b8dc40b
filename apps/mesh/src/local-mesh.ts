// The whole mesh on one machine: the control plane, one ztunnel per node, the waypoints (all as child
// processes, as they run for real), the sample echo workloads and the JWT issuer (in this process).
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { startJwtIssuer, type JwtIssuer } from './jwt-issuer.ts';
import type { MeshFile } from './mesh-file.ts';
import { startEchoApp } from './sample-apps.ts';
import { Supervised } from './supervisor.ts';

const repo = resolve(import.meta.dirname, '../../..');
const scripts = {
  controlplane: join(repo, 'apps/controlplane/src/cli.ts'),
  ztunnel: join(repo, 'apps/ztunnel/src/main.ts'),
  waypoint: join(repo, 'apps/waypoint/src/main.ts'),
};

/**
 * A smaller young generation for the proxies: Node's default lets each proxy pause 10–30 ms every few
 * seconds under load, which two proxies in series turn into a p99 of several ms (tools/bench/ztunnel).
 */
const proxyNodeArgs = ['--max-semi-space-size=8'];

export interface LocalMeshOptions {
  files: string[];
  stateDir: string;
  /** Called with every JSON log line of every process. */
  onLine?: (role: string, line: Record<string, unknown>) => void;
  /** Called for process events (crash, restart). */
  onEvent?: (role: string, text: string) => void;
}

export interface NodeEndpoints {
  node: string;
  /** Loopback address the node's ztunnel serves its operator ports and SOCKS5 on. */
  ip: string;
  socks: { host: string; port: number };
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
  readonly mesh: MeshFile;
  readonly options: LocalMeshOptions;
  readonly processes: Supervised[] = [];
  readonly nodes: NodeEndpoints[];
  readonly waypointEndpoints: {
    name: string;
    namespace: string;
    podIp: string;
    operatorIp: string;
    admin: string;
    metrics: string;
  }[];
  readonly apps: Server[] = [];
  issuers: JwtIssuer[] = [];

  constructor(mesh: MeshFile, options: LocalMeshOptions) {
    this.mesh = mesh;
    this.options = options;
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
    this.waypointEndpoints = mesh.waypoints.map((waypoint, index) => {
      const ip = `127.0.101.${index + 1}`;
      return {
        name: waypoint.name,
        namespace: waypoint.namespace,
        podIp: waypoint.ip,
        operatorIp: ip,
        admin: `http://${ip}:15000`,
        metrics: `http://${ip}:15020/stats/prometheus`,
      };
    });
  }

  #supervise(spec: ConstructorParameters<typeof Supervised>[0]): Supervised {
    const process = new Supervised(spec, this.options.onLine ?? (() => {}), this.options.onEvent ?? (() => {}));
    this.processes.push(process);
    return process;
  }

  /** Bring everything up in dependency order; rejects (having stopped what started) on the first failure. */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async #start(): Promise<void> {
    const { stateDir } = this.options;
    const controlPlane = this.#supervise({
      role: 'controlplane',
      script: scripts.controlplane,
      args: ['serve', '--state-dir', stateDir, '--log-format', 'json', ...this.options.files],
      env: {},
      readyWhen: (line) => String(line['message']).includes('watching the YAML'),
    });
    await controlPlane.start();
    for (const { issuer, jwksUri } of this.mesh.jwtIssuers) {
      if (!this.issuers.some((existing) => existing.issuer === issuer))
        this.issuers.push(await startJwtIssuer(issuer, jwksUri));
    }
    for (const pod of this.mesh.pods) {
      for (const port of pod.ports) {
        this.apps.push(
          await startEchoApp({
            name: pod.name,
            namespace: pod.namespace,
            version: pod.labels['version'] ?? 'v1',
            ip: pod.ip,
            port: port.containerPort,
          }),
        );
      }
    }
    const common = {
      XDS_ADDRESS: 'https://localhost:15012',
      CA_ADDRESS: 'https://localhost:15012',
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
            PROXY_MODE: 'node',
            NODE_NAME: node.node,
            POD_NAME: `ztunnel-${node.node}`,
            POD_NAMESPACE: 'istio-system',
            AUTH_TOKEN: join(stateDir, 'tokens', node.node),
            UNSTABLE_ENABLE_SOCKS5: 'true',
            ADMIN_ADDR: `${node.ip}:15000`,
            STATS_ADDR: `${node.ip}:15020`,
            READINESS_ADDR: `${node.ip}:15021`,
            SOCKS5_ADDR: `${node.ip}:15080`,
          },
          readyWhen: (line) => line['message'] === 'ztunnel started',
        })
          .start()
          .then(() => waitReady(`ztunnel ${node.node}`, `http://${node.ip}:15021/healthz/ready`)),
      ),
    );
    await Promise.all(
      this.waypointEndpoints.map((waypoint) =>
        this.#supervise({
          role: `waypoint ${waypoint.namespace}/${waypoint.name}`,
          script: scripts.waypoint,
          nodeArgs: proxyNodeArgs,
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
  }

  /** The SOCKS5 address of the ztunnel serving a pod, or undefined for pods outside the mesh. */
  socksFor(podName: string, namespace: string): { host: string; port: number } | undefined {
    const pod = this.mesh.pods.find((candidate) => candidate.name === podName && candidate.namespace === namespace);
    if (!pod?.ambient) return undefined;
    return this.nodes.find((node) => node.node === pod.node)?.socks;
  }

  /** Stop in reverse order: traffic sources first, the control plane last. */
  async stop(): Promise<void> {
    for (const app of this.apps.splice(0)) app.close();
    for (const issuer of this.issuers.splice(0)) issuer.close();
    const [controlPlane, ...proxies] = this.processes;
    await Promise.all(proxies.map((process) => process.stop()));
    await controlPlane?.stop();
  }
}
