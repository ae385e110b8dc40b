// The ztunnel app: discovery + identities + HBONE + policy + telemetry composed into a node proxy.
// `Ztunnel.start(config)` binds everything and resolves once listening; `drain()` is the SIGTERM path.
import type { AddressInfo, Server as NetServer } from 'node:net';
import { formatSocketAddress } from '@ambient-ts/addresses';
import { DEFAULT_ILLEGAL_PORTS, workloadIdentity, type StoreChange } from '@ambient-ts/discovery';
import type { CaClient } from '@ambient-ts/certs';
import { HbonePool, type HboneServer } from '@ambient-ts/hbone';
import { AccessLog, type Logging, type ProxyMetrics, type Readiness } from '@ambient-ts/telemetry';
import { OperatorSurface } from '@ambient-ts/proxy-core';
import { Authorizer } from './authorization.ts';
import { redactedConfig, type Config } from './config.ts';
import { buildConfigDump } from './config-dump.ts';
import { ConnectionManager } from './connection-manager.ts';
import { WorkloadIdentities } from './identity.ts';
import { inboundHandler } from './inbound.ts';
import { passthroughHandler } from './inbound-passthrough.ts';
import { createInboundServer, http2Tuning } from './inbound-server.ts';
import { PodProxies } from './inpod/pod-proxies.ts';
import type { DataPath } from './inpod/pod-proxy.ts';
import { loadZdsTransport } from './inpod/transport.ts';
import { ZdsClient } from './inpod/zds-client.ts';
import { Lifecycle, type LifecycleState } from '@ambient-ts/runtime';
import { nodeModeOriginalDestination } from './original-destination.ts';
import { ProxyState } from './proxy-state.ts';
import { startSocks5 } from './socks5-listener.ts';
import { TrafficReporter } from './traffic.ts';
import { PLAINTEXT_INBOUND_PORT, WorkloadListeners } from './workload-listeners.ts';
import { captureSupport, captureUnavailableMessage, type CaptureProbe } from './capture-support.ts';
import { controlPlaneEndpoints, planDedicatedCapture, startCaptureListener } from './capture-listener.ts';
import { ZtunnelDns } from './dns/dns-server.ts';

export const version = '0.1.0';

export interface ZtunnelOptions {
  /** Where logs go (tests capture them); default stdout. */
  logDestination?: NodeJS.WritableStream;
  /** Use this CA client instead of CA_ADDRESS/FAKE_CA (tests share one CA between ztunnels). */
  caClient?: CaClient;
  /** How to find out whether transparent capture works here (tests simulate a machine without the helper). */
  captureSupport?: CaptureProbe;
}

export class Ztunnel {
  readonly config: Config;
  /** Logs, metrics, readiness and their admin/metrics/readiness servers. */
  readonly operator: OperatorSurface;
  readonly logging: Logging;
  readonly metrics: ProxyMetrics;
  readonly readiness: Readiness;
  readonly state: ProxyState;
  readonly connections = new ConnectionManager();
  readonly lifecycle = new Lifecycle();
  readonly ports: {
    admin: number;
    stats: number;
    readiness: number;
    socks5?: number;
    outbound?: number;
    dns?: number;
    selfInbound?: number;
  } = {
    admin: 0,
    stats: 0,
    readiness: 0,
  };
  #identities: WorkloadIdentities | undefined;
  #pool: HbonePool | undefined;
  #listeners: WorkloadListeners | undefined;
  #socks5: NetServer | undefined;
  #capture: NetServer | undefined;
  /** Shared mode: the pod proxies and the ZDS client feeding them. */
  #pods: PodProxies | undefined;
  #zds: ZdsClient | undefined;
  /** Shared mode: ztunnel's own HBONE inbound (facts §1.12), when its identity is configured. */
  #self: HboneServer | undefined;
  #dns: ZtunnelDns | undefined;
  #unsubscribe: (() => void) | undefined;
  #retry: NodeJS.Timeout | undefined;

  readonly #options: ZtunnelOptions;

  private constructor(config: Config, options: ZtunnelOptions) {
    this.config = config;
    this.#options = options;
    this.operator = new OperatorSurface({
      component: 'ztunnel',
      version,
      logging: config.logging,
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    ({ logging: this.logging, metrics: this.metrics, readiness: this.readiness } = this.operator);
    this.state = new ProxyState(config, { logging: this.logging, metrics: this.metrics, readiness: this.readiness });
  }

  static async start(config: Config, options: ZtunnelOptions = {}): Promise<Ztunnel> {
    if (config.proxyMode === 'shared') {
      const support = await (options.captureSupport ?? captureSupport)();
      if (!support.available)
        throw new Error(`PROXY_MODE=shared cannot run here: ${captureUnavailableMessage(support.reason)}`);
    }
    const ztunnel = new Ztunnel(config, options);
    try {
      await ztunnel.#start();
    } catch (error) {
      await ztunnel.#shutdown();
      throw error;
    }
    return ztunnel;
  }

  async #start(): Promise<void> {
    const { config, logging } = this;
    const log = logging.scope('ztunnel');
    log.info({ config: redactedConfig(config), version }, 'running with config');
    this.readiness.register('proxy');
    await this.operator.listen(config, { configDump: () => this.configDump(), quit: () => void this.drain() });
    Object.assign(this.ports, this.operator.ports);

    await this.state.start();
    this.#identities = await WorkloadIdentities.create(config, this.state, logging, this.#options.caClient);
    this.#identities.start();
    const illegalPorts = config.enableSocks5 ? [...DEFAULT_ILLEGAL_PORTS, 15080] : DEFAULT_ILLEGAL_PORTS;
    const traffic = new TrafficReporter(this.metrics, new AccessLog(logging.scope('access')));
    const authorizer = new Authorizer(this.state.store, logging.scope('rbac'), config.logging.authzPolicyInfo);
    const data: DataPath = {
      config,
      state: this.state,
      identities: this.#identities,
      authorizer,
      connections: this.connections,
      traffic,
      log: { proxy: logging.scope('proxy'), inbound: logging.scope('inbound'), outbound: logging.scope('outbound') },
      illegalPorts,
    };
    if (config.proxyMode === 'shared') await this.#startShared(data);
    else await this.#startNode(data);
    this.#unsubscribe = this.state.subscribe((change) => this.#onStoreChange(change, authorizer));
    // Ready once the first config is in and every local workload's listeners are bound (node mode); in shared
    // mode the ZDS client holds its own tasks until the snapshot is in and no pod is pending.
    void this.state.synced.then(() => this.#syncListeners()).then(() => this.readiness.complete('proxy'));
    this.lifecycle.running();
    log.info({ ports: this.ports, listeners: this.#listeners?.status() ?? [] }, 'ztunnel started');
  }

  /** Node and dedicated mode: listeners on the local workloads' own IPs, SOCKS5 for outbound. */
  async #startNode(data: DataPath): Promise<void> {
    const { config, logging } = this;
    const log = logging.scope('ztunnel');
    const identities = data.identities;
    // Dedicated mode captures on 15001 where it can; its own sockets are then marked so the rule lets them pass.
    const capture = await planDedicatedCapture(config, this.#options.captureSupport ?? captureSupport, log);
    const socketFactory = capture ? { socketFactory: capture.socketFactory } : {};
    // DNS proxy on ztunnel's address; its upstream sockets carry the same mark (a TCP retry would be captured)
    await this.#startDns(capture?.mark ?? config.packetMark);
    this.#pool = new HbonePool({
      ...socketFactory,
      maxStreamsPerConnection: config.pool.maxStreamsPerConnection,
      idleReleaseMs: config.pool.unusedReleaseTimeoutMs,
      tls12: config.tls12Enabled,
      http2: http2Tuning(config),
    });
    const common = {
      state: data.state,
      authorizer: data.authorizer,
      connections: data.connections,
      traffic: data.traffic,
      network: config.network,
      illegalPorts: data.illegalPorts,
    };
    const onConnect = inboundHandler({
      ...common,
      log: data.log.inbound,
      enableResponseBaggage: config.enableResponseBaggage,
      localhostAppTunnel: config.localhostAppTunnel,
    });
    const onPlaintext = passthroughHandler({
      ...common,
      log: data.log.inbound,
      originalDestination: nodeModeOriginalDestination(this.state, PLAINTEXT_INBOUND_PORT),
    });
    this.#listeners = new WorkloadListeners({
      log: data.log.proxy,
      // Native-tunnel workloads (waypoints) terminate HBONE themselves: not captured, no listeners.
      serves: (workload) => this.state.isLocal(workload) && workload.protocol === 'HBONE' && !workload.nativeTunnel,
      workloads: () => this.state.localWorkloads(),
      onPlaintext: (socket) => void onPlaintext(socket),
      createHboneServer: () =>
        createInboundServer({
          config,
          traffic: data.traffic,
          credentials: async (local) => {
            const workload =
              this.state.localWorkloadByIp(local.address) ??
              (await this.state.waitForLocalWorkload(local.address, 5000));
            if (!workload) throw new Error(`no local workload at ${local.address}`);
            return identities.credentials(workloadIdentity(workload));
          },
          onConnect,
        }),
    });
    await this.#syncListeners();
    if (config.enableSocks5) {
      this.#socks5 = await startSocks5(config.socks5Address, {
        ...common,
        log: logging.scope('socks5'),
        identities,
        pool: this.#pool,
        onDemand: config.xdsOnDemand,
        ...socketFactory,
        dns: this.#dns!,
        resolveHostname: (hostname, source) => this.#dns!.resolveOnDemand(hostname, source),
      });
      this.ports.socks5 = (this.#socks5.address() as AddressInfo).port;
    }
    if (capture) {
      this.#capture = await startCaptureListener(config.outboundCaptureAddress, {
        ...common,
        log: data.log.outbound,
        identities,
        pool: this.#pool,
        onDemand: config.xdsOnDemand,
        netns: capture.netns,
        socketFactory: capture.socketFactory,
        controlPlane: await controlPlaneEndpoints(config, log),
        resolveHostname: (hostname, source) => this.#dns!.resolveOnDemand(hostname, source),
      });
      this.ports.outbound = (this.#capture.address() as AddressInfo).port;
      log.info(
        {
          address: formatSocketAddress({ address: config.outboundCaptureAddress.host, port: this.ports.outbound }),
          mark: capture.mark,
        },
        `dedicated mode: capturing outbound connections (original destination from SO_ORIGINAL_DST), own sockets marked ${capture.mark}`,
      );
    }
  }

  /**
   * The DNS resolver (always: SOCKS5 and on-demand lookups use it) and, in node and dedicated modes with
   * ISTIO_META_DNS_CAPTURE on, its server on ISTIO_META_DNS_PROXY_ADDR. Shared mode serves DNS per pod instead
   * (`dns.createDnsServer` with sockets made in the pod's netns).
   */
  async #startDns(mark: number | undefined): Promise<void> {
    const { config, logging } = this;
    this.#dns = await ZtunnelDns.create(config, { state: this.state, metrics: this.metrics, logging, mark });
    if (!config.dns.capture || config.proxyMode === 'shared') return;
    try {
      await this.#dns.listen(config, this.state);
      this.ports.dns = this.#dns.addresses[0]?.port;
    } catch (error) {
      // the default address taken (several ztunnels on one host): run without; a set address must bind
      if (config.dns.addressSet || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      logging
        .scope('dns')
        .warn(
          { error: (error as Error).message },
          'DNS proxy not started: set ISTIO_META_DNS_PROXY_ADDR to a free address',
        );
    }
  }

  /** ztunnel's DNS resolver and servers (shared mode: give each pod a server with `createDnsServer`). */
  get dns(): ZtunnelDns | undefined {
    return this.#dns;
  }

  /**
   * Shared (in-pod) mode: no listeners of our own for workloads; the CNI node agent hands each pod's network
   * namespace over ZDS and a PodProxy serves it from inside (facts §9.1).
   */
  async #startShared(data: DataPath): Promise<void> {
    const { config, logging } = this;
    if (config.enableSocks5) {
      logging
        .scope('ztunnel')
        .warn({}, 'UNSTABLE_ENABLE_SOCKS5 is ignored in PROXY_MODE=shared: pods are captured by iptables');
    }
    await this.#startDns(config.packetMark);
    await this.#startSelfInbound(data);
    // ISTIO_META_DNS_CAPTURE on: every pod serves DNS on ISTIO_META_DNS_PROXY_ADDR inside its namespace
    const podData: DataPath = config.dns.capture && this.#dns ? { ...data, dns: this.#dns } : data;
    this.#pods = new PodProxies({ data: podData, drainDeadlineMs: config.terminationDeadlineMs });
    this.#zds = new ZdsClient({
      path: config.inpodUds,
      registry: this.#pods,
      transport: await loadZdsTransport(),
      log: logging.scope('inpod'),
      readiness: this.readiness,
    });
    this.#zds.start();
  }

  /**
   * Facts §1.12: with its own identity configured (POD_NAME, POD_NAMESPACE, SERVICE_ACCOUNT), shared-mode ztunnel
   * also serves HBONE in its own network namespace with that identity, so meshed clients reach its own ports
   * (metrics) through HBONE. Its workload must be in discovery like any other; the app side is never spoofed.
   */
  async #startSelfInbound(data: DataPath): Promise<void> {
    const { config } = this;
    const { podName, podNamespace, serviceAccount, trustDomain } = config.self;
    if (!podName || !podNamespace || !serviceAccount) return;
    const identity = workloadIdentity({ trustDomain, namespace: podNamespace, serviceAccount });
    const server = createInboundServer({
      config,
      traffic: data.traffic,
      credentials: () => data.identities.credentials(identity),
      onConnect: inboundHandler({
        state: data.state,
        authorizer: data.authorizer,
        connections: data.connections,
        traffic: data.traffic,
        network: config.network,
        illegalPorts: data.illegalPorts,
        log: data.log.inbound,
        enableResponseBaggage: config.enableResponseBaggage,
        localhostAppTunnel: config.localhostAppTunnel,
      }),
    });
    const bound = await server.listen(config.selfInboundAddress);
    this.#self = server;
    this.ports.selfInbound = bound.port;
    this.logging
      .scope('ztunnel')
      .info({ address: formatSocketAddress(bound), identity }, "serving ztunnel's own HBONE inbound");
  }

  /**
   * Bind listeners for the current local workloads. A workload whose port is taken keeps the proxy not
   * ready ("workload listeners" pending) and is retried every 5 s, as ztunnel retries pending pods.
   */
  async #syncListeners(): Promise<void> {
    const listeners = this.#listeners;
    if (!listeners) return;
    await listeners.sync();
    clearTimeout(this.#retry);
    if (!listeners.failing) {
      this.readiness.complete('workload listeners');
      return;
    }
    this.readiness.register('workload listeners');
    if (this.lifecycle.current.state === 'draining' || this.lifecycle.current.state === 'stopped') return;
    this.#retry = setTimeout(() => void this.#syncListeners(), 5000);
    this.#retry.unref();
  }

  #onStoreChange(change: StoreChange, authorizer: Authorizer): void {
    void this.#syncListeners();
    const policyChanged = change.policies.upserted.length + change.policies.removed.length > 0;
    if (!policyChanged && change.workloads.upserted.length === 0) return;
    const closed = this.connections.recheck((connection) => {
      const workload = this.state.store.getWorkload(connection.localWorkload);
      if (!workload || !connection.policy) return { allowed: true, reason: '' };
      const decision = authorizer.check(workload, connection.policy);
      return { allowed: decision.allowed, reason: `connection closed due to policy change: ${decision.reason}` };
    });
    for (const { connection, reason } of closed) {
      this.logging.scope('access').info(
        {
          'src.addr': connection.source,
          'dst.addr': connection.destination,
          direction: 'inbound',
          error: reason.message,
        },
        'connection closed due to policy change',
      );
    }
  }

  configDump(): Record<string, unknown> {
    return buildConfigDump({
      config: this.config,
      version,
      snapshot: this.state.store.snapshot(),
      certificates: this.#identities?.manager.snapshot() ?? [],
      localWorkloads: this.state.localWorkloads(),
      connections: this.connections.list(),
      ...(this.#pods && this.#zds ? { inpod: { pods: this.#pods.list(), zds: this.#zds.status() } } : {}),
    });
  }

  /** Graceful shutdown: stop accepting, GOAWAY, wait for connections until the deadline, then close. */
  drain(deadlineMs = this.config.terminationDeadlineMs): Promise<LifecycleState> {
    let hboneDrained: Promise<void> = Promise.resolve();
    return this.lifecycle.drain(deadlineMs, {
      stopAccepting: async () => {
        this.#socks5?.close();
        this.#capture?.close();
        await this.#zds?.close();
        this.#pods?.stopAccepting();
        await this.#listeners?.stopAccepting();
      },
      goAway: async () => {
        hboneDrained = Promise.all([
          this.#listeners?.drain(deadlineMs),
          this.#pods?.drain(deadlineMs),
          this.#self?.drain(deadlineMs),
        ]).then(() => {});
      },
      idle: async () => {
        await this.connections.whenIdle();
      },
      forceClose: (message) => this.connections.closeAll({ kind: 'drain', message }),
      shutdown: async () => {
        await hboneDrained;
        await this.#shutdown();
      },
    });
  }

  async #shutdown(): Promise<void> {
    this.#unsubscribe?.();
    await this.#zds?.close();
    await this.#pods?.drain(0);
    await this.#self?.close().catch(() => {});
    clearTimeout(this.#retry);
    await this.#pool?.close().catch(() => {});
    this.#identities?.close();
    await this.#dns?.close();
    this.state.close();
    this.logging.scope('ztunnel').info({}, 'ztunnel stopped');
    await this.operator.close();
  }
}
