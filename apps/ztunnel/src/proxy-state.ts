// The discovered world of this ztunnel: a store fed by static config and/or delta xDS, plus the answer to
// "which workloads does this proxy serve" (node mode: node == NODE_NAME; dedicated: the one named workload).
import { normalizeAddress } from '@ambient-ts/addresses';
import {
  DiscoveryStore,
  applyLocalConfig,
  loadLocalConfigFile,
  parseLocalConfig,
  storeHandlers,
  type StoreChange,
  type Workload,
} from '@ambient-ts/discovery';
import { DeltaXdsClient, ztunnelNode } from '@ambient-ts/xds';
import type { Logging, ProxyMetrics, Readiness } from '@ambient-ts/telemetry';
import type { Config } from './config.ts';
import { tokenSource } from '@ambient-ts/runtime';

const stateTask = 'state manager';

export class ProxyState {
  readonly store = new DiscoveryStore();
  readonly #config: Config;
  readonly #logging: Logging;
  readonly #metrics: ProxyMetrics;
  readonly #readiness: Readiness;
  #client: DeltaXdsClient | undefined;
  #synced!: () => void;
  /** Resolves once static config is loaded and xDS (if any) has synced every type once. */
  readonly synced = new Promise<void>((resolve) => (this.#synced = resolve));

  constructor(config: Config, deps: { logging: Logging; metrics: ProxyMetrics; readiness: Readiness }) {
    this.#config = config;
    this.#logging = deps.logging;
    this.#metrics = deps.metrics;
    this.#readiness = deps.readiness;
    this.#readiness.register(stateTask);
  }

  /** Load static config (if any) and start xDS (if configured); readiness completes once both synced. */
  async start(): Promise<void> {
    const config = this.#config;
    const log = this.#logging.scope('xds');
    if (config.localXdsPath || config.localXds) {
      const local = config.localXdsPath
        ? await loadLocalConfigFile(config.localXdsPath)
        : parseLocalConfig(config.localXds!, 'LOCAL_XDS');
      applyLocalConfig(this.store, local);
      log.info(
        { workloads: local.workloads.length, services: local.services.length, policies: local.policies.length },
        'loaded static config',
      );
      for (const policy of local.policies) {
        for (const problem of policy.problems) {
          log.warn(
            { policy: policy.key, field: problem.field, effect: problem.effect },
            `static policy cannot be understood: ${problem.message}`,
          );
        }
      }
    }
    if (!config.xdsAddress) {
      this.#readiness.complete(stateTask);
      this.#synced();
      return;
    }
    const metadata = Object.fromEntries(
      Object.entries(config.proxyMetadata).filter(([, value]) => typeof value === 'string'),
    ) as Record<string, string>;
    const metadataJson = Object.fromEntries(
      Object.entries(config.proxyMetadata).filter(([, value]) => typeof value !== 'string'),
    );
    this.#client = new DeltaXdsClient({
      address: config.xdsAddress,
      rootCert: config.xdsRootCa,
      token: tokenSource(config.authToken),
      clusterId: config.clusterId,
      node: ztunnelNode({
        podName: config.self.podName ?? 'ztunnel',
        podNamespace: config.self.podNamespace ?? 'istio-system',
        ...(config.self.instanceIp ? { instanceIp: config.self.instanceIp } : {}),
        ...(config.nodeName ? { nodeName: config.nodeName } : {}),
        metadata,
        metadataJson,
      }),
      handlers: storeHandlers(this.store),
      headers: config.xdsHeaders,
      ...(config.altXdsHostname ? { serverName: config.altXdsHostname } : {}),
      hooks: {
        onStateChange: (state) => log.debug({ state: state.state }, 'xds client state'),
        onConnectionTermination: (reason, detail) => {
          this.#metrics.xdsConnectionTerminations.inc({ reason });
          log.warn({ reason, detail }, 'xds stream terminated');
        },
        onMessage: (url, bytes) => {
          this.#metrics.xdsMessages.inc({ url });
          this.#metrics.xdsMessageBytes.inc({ url }, bytes);
        },
        onNack: (url, _nonce, detail) => log.error({ url, error: detail }, 'rejected xds resources (NACK)'),
      },
    });
    this.#client.start();
    void this.#client.whenSynced().then(() => {
      this.#readiness.complete(stateTask);
      this.#synced();
      log.info(
        { workloads: this.store.workloadCount, services: this.store.serviceCount, policies: this.store.policyCount },
        'xds synced',
      );
    });
  }

  /** Whether this proxy serves the workload. */
  isLocal(workload: Workload): boolean {
    const info = this.#config.proxyWorkloadInfo;
    if (this.#config.proxyMode === 'dedicated' && info) {
      return (
        workload.namespace === info.namespace &&
        workload.name === info.name &&
        workload.serviceAccount === info.serviceAccount
      );
    }
    return this.#config.nodeName === undefined || workload.node === this.#config.nodeName;
  }

  localWorkloads(): Workload[] {
    return [...this.store.workloads()].filter((workload) => this.isLocal(workload));
  }

  /** The local workload owning an IP (the source of an outbound connection, the target of an inbound one). */
  localWorkloadByIp(ip: string): Workload | undefined {
    const address = normalizeAddress(ip); // a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
    const workload = this.store.findWorkloadByAddress(this.#config.network, address);
    if (workload && this.isLocal(workload)) return workload;
    return this.localWorkloads().find((candidate) => candidate.workloadIps.includes(address));
  }

  /**
   * The workload an outbound connection comes from: in dedicated mode always the one workload served
   * (sidecar-like), in node mode the local workload owning the client's IP. Waits like ztunnel does.
   */
  sourceWorkload(clientIp: string, timeoutMs: number): Promise<Workload | undefined> {
    if (this.#config.proxyMode !== 'dedicated') return this.waitForLocalWorkload(clientIp, timeoutMs);
    return this.waitForWorkload(() => this.localWorkloads()[0], timeoutMs);
  }

  /** Wait up to `timeoutMs` for a local workload owning `ip` (ztunnel waits 5 s for workload info). */
  waitForLocalWorkload(ip: string, timeoutMs: number): Promise<Workload | undefined> {
    return this.waitForWorkload(() => this.localWorkloadByIp(ip), timeoutMs);
  }

  /** Resolve with what `find` returns as soon as it returns something (re-asked on every store change), or after `timeoutMs`. */
  waitForWorkload(find: () => Workload | undefined, timeoutMs: number): Promise<Workload | undefined> {
    const found = find();
    if (found || timeoutMs <= 0) return Promise.resolve(found);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(find());
      }, timeoutMs);
      const unsubscribe = this.store.subscribe(() => {
        const workload = find();
        if (!workload) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(workload);
      });
    });
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    return this.store.subscribe(listener);
  }

  /** Fetch an unknown address on demand (XDS_ON_DEMAND); resolves when xDS answered or gave up. */
  async demand(name: string): Promise<void> {
    await this.#client?.demand(name);
  }

  get xdsState(): string {
    return this.#client?.state.state ?? 'disabled';
  }

  close(): void {
    this.#client?.close();
  }
}
