// The waypoint app: discovery (Address + Authorization + L7 objects) + its own certificate + HBONE in and
// out + policy + routing + telemetry. `Waypoint.start(config)` binds everything and resolves once
// listening; `drain()` is the SIGTERM path.
import { formatSocketAddress } from '@ambient-ts/addresses';
import type { CaClient } from '@ambient-ts/certs';
import { createHboneServer, HbonePool, type HboneServer } from '@ambient-ts/hbone';
import { JwksCache, type WaypointTarget } from '@ambient-ts/policy';
import type { Logging, ProxyMetrics, Readiness } from '@ambient-ts/telemetry';
import { OperatorSurface } from '@ambient-ts/proxy-core';
import { redactedConfig, waypointIdentity, type Config } from './config.ts';
import { buildConfigDump } from './config-dump.ts';
import { WaypointIdentity } from './identity.ts';
import { BindError, Lifecycle, type LifecycleState } from '@ambient-ts/runtime';
import { HttpHandler } from './proxy/http-handler.ts';
import { Inbound } from './proxy/inbound.ts';
import { proxyTcp } from './proxy/tcp-proxy.ts';
import type { TunnelContext } from './proxy/tunnel.ts';
import type { WaypointSelf } from './routing/dispatch.ts';
import { WaypointState } from './state/waypoint-state.ts';
import { HttpMetrics } from './telemetry/http-metrics.ts';
import { TrafficReporter } from './telemetry/reporter.ts';
import { UpstreamAgent, UpstreamConnector } from './upstream/connector.ts';
import { UpstreamH2Sessions } from './upstream/h2-sessions.ts';
import { selfWorkload } from './upstream/endpoints.ts';

export const version = '0.1.0';

export interface WaypointOptions {
  /** Use this CA client instead of CA_ADDRESS/FAKE_CA (tests and the local mesh share one CA). */
  caClient?: CaClient;
  /** Where logs go (tests capture them); default stdout. */
  logDestination?: NodeJS.WritableStream;
}

export class Waypoint {
  readonly config: Config;
  readonly identity: string;
  /** Logs, metrics, readiness and their admin/metrics/readiness servers. */
  readonly operator: OperatorSurface;
  readonly logging: Logging;
  readonly metrics: ProxyMetrics;
  readonly readiness: Readiness;
  readonly lifecycle = new Lifecycle();
  readonly state: WaypointState;
  readonly self: WaypointSelf;
  readonly ports = { hbone: 0, admin: 0, stats: 0, readiness: 0 };
  readonly #options: WaypointOptions;
  #certificates: WaypointIdentity | undefined;
  #pool: HbonePool | undefined;
  #agent: UpstreamAgent | undefined;
  #h2: UpstreamH2Sessions | undefined;
  #hbone: HboneServer | undefined;
  #inbound: Inbound | undefined;
  #draining = false;
  #unsubscribe: (() => void) | undefined;

  private constructor(config: Config, options: WaypointOptions) {
    this.config = config;
    this.#options = options;
    this.identity = waypointIdentity(config);
    this.operator = new OperatorSurface({
      component: 'waypoint',
      version,
      logging: config.logging,
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    ({ logging: this.logging, metrics: this.metrics, readiness: this.readiness } = this.operator);
    this.state = new WaypointState(config, {
      logging: this.logging,
      metrics: this.metrics,
      readiness: this.readiness,
      version,
    });
    this.self = {
      gatewayName: config.self.gatewayName,
      namespace: config.self.podNamespace,
      hostname: `${config.self.gatewayName}.${config.self.podNamespace}.svc.${config.clusterDomain}`,
      instanceIp: config.self.instanceIp,
      network: config.network,
    };
  }

  static async start(config: Config, options: WaypointOptions = {}): Promise<Waypoint> {
    const waypoint = new Waypoint(config, options);
    try {
      await waypoint.#start();
    } catch (error) {
      await waypoint.#shutdown();
      throw error;
    }
    return waypoint;
  }

  async #start(): Promise<void> {
    const { config, logging } = this;
    const log = logging.scope('waypoint');
    log.info({ config: redactedConfig(config), identity: this.identity, version }, 'running with config');
    this.readiness.register('proxy');
    await this.operator.listen(config, { configDump: () => this.configDump(), quit: () => void this.drain() });
    Object.assign(this.ports, this.operator.ports);

    await this.state.start();
    const certificates = await WaypointIdentity.create(
      config,
      this.identity,
      { logging, readiness: this.readiness },
      this.#options.caClient,
    );
    this.#certificates = certificates;
    this.#pool = new HbonePool({
      maxStreamsPerConnection: config.pool.maxStreamsPerConnection,
      idleReleaseMs: config.pool.unusedReleaseTimeoutMs,
    });
    const connector = new UpstreamConnector({
      pool: this.#pool,
      credentials: () => certificates.credentials(),
      sourceIdentity: this.identity,
      hbonePort: config.hbonePort,
    });
    this.#agent = new UpstreamAgent(connector);
    this.#h2 = new UpstreamH2Sessions(connector);
    const reporter = new TrafficReporter(new HttpMetrics(this.metrics), this.metrics, logging.scope('access'));
    const { store, l7 } = this.state;
    const self = this.self;
    const draining = (): boolean => this.#draining;
    // The waypoint as a load-balancing source, recomputed only when discovery changes.
    let source: ReturnType<typeof selfWorkload> | undefined;
    this.#unsubscribe = store.subscribe(() => (source = undefined));
    const me = (): ReturnType<typeof selfWorkload> => (source ??= selfWorkload(store, self));
    const http = new HttpHandler({
      store,
      l7,
      self,
      rootNamespace: config.rootNamespace,
      clusterDomain: config.clusterDomain,
      pathNormalization: config.pathNormalization,
      jwks: new JwksCache(),
      agent: this.#agent,
      h2: this.#h2,
      protocols: this.state.protocols,
      reporter,
      reportFailed: (error) =>
        log.error({ error: (error as Error).message }, 'reporting a finished request failed (metrics or access log)'),
      selfWorkload: me,
      draining,
    });
    const waypointTarget = (tunnel: TunnelContext): WaypointTarget => ({
      rootNamespace: config.rootNamespace,
      gateway: {
        name: self.gatewayName,
        namespace: self.namespace,
        gatewayClassName: l7.gateway(self.namespace, self.gatewayName)?.gatewayClassName ?? 'istio-waypoint',
      },
      ...(tunnel.target.kind === 'service'
        ? { service: { name: tunnel.target.service.name, namespace: tunnel.target.service.namespace } }
        : {}),
    });
    const tcpDeps = {
      store,
      policies: () => l7.authorizationPolicies(),
      waypointTarget,
      connector,
      reporter,
      selfWorkload: me,
    };
    this.#inbound = new Inbound({
      store,
      self,
      protocols: this.state.protocols,
      http,
      tcp: (tunnel, context, head) => proxyTcp(tcpDeps, tunnel, context, head),
      log: logging.scope('inbound'),
      protocolDetectionTimeoutMs: config.protocolDetectionTimeoutMs,
      draining,
    });
    this.#hbone = createHboneServer({
      credentials: () => certificates.credentials(),
      onConnect: this.#inbound.onConnect,
    });
    this.#hbone.on('connectionError', (error, remote) =>
      logging
        .scope('inbound')
        .warn({ 'src.addr': formatSocketAddress(remote), error: error.message }, 'HBONE connection rejected'),
    );
    const hboneAddress = { host: config.self.instanceIp, port: config.hbonePort };
    try {
      this.ports.hbone = (await this.#hbone.listen(hboneAddress)).port;
    } catch (error) {
      throw new BindError('HBONE', hboneAddress, error as NodeJS.ErrnoException);
    }
    this.readiness.complete('proxy');
    this.lifecycle.running();
    log.info({ ports: this.ports, identity: this.identity, address: config.self.instanceIp }, 'waypoint started');
  }

  configDump(): Record<string, unknown> {
    return buildConfigDump({
      config: this.config,
      version,
      identity: this.identity,
      self: this.self,
      store: this.state.store,
      l7: this.state.l7,
      protocols: this.state.protocols,
      tunnels: this.#inbound?.tunnels() ?? [],
      certificates: this.#certificates?.manager.snapshot() ?? [],
      xdsState: this.state.xdsState,
      lifecycle: this.lifecycle.current.state,
    });
  }

  /** Graceful shutdown: stop accepting, GOAWAY, finish in-flight requests until the deadline, then close. */
  drain(deadlineMs = this.config.terminationDeadlineMs): Promise<LifecycleState> {
    let tunnelsDone: Promise<void> = Promise.resolve();
    return this.lifecycle.drain(deadlineMs, {
      stopAccepting: async () => {
        this.#draining = true;
        // Closes the listener and sends GOAWAY; resolves once every HBONE connection is gone (or the deadline).
        tunnelsDone = this.#hbone?.drain(deadlineMs) ?? Promise.resolve();
      },
      goAway: async () => {
        this.#inbound?.closeIdle();
      },
      idle: () => tunnelsDone,
      forceClose: () => 0,
      shutdown: async () => {
        await tunnelsDone;
        await this.#shutdown();
      },
    });
  }

  async #shutdown(): Promise<void> {
    this.#unsubscribe?.();
    this.#agent?.destroy();
    this.#h2?.destroy();
    await this.#hbone?.close().catch(() => {});
    await this.#pool?.close().catch(() => {});
    this.#certificates?.close();
    this.state.close();
    this.logging.scope('waypoint').info({}, 'waypoint stopped');
    await this.operator.close();
  }
}
