// The discovered world of this waypoint: workloads, services and L4 policies (Address, Authorization)
// in discovery's store, service port protocols, and the L7 objects — fed by the static file and/or one
// delta xDS stream. Readiness completes once static config is loaded and xDS has synced.
import { DiscoveryStore, applyLocalConfig, authorizationHandler } from '@ambient-ts/discovery';
import { AUTHORIZATION_TYPE_URL, ADDRESS_TYPE_URL } from '@ambient-ts/istio-api';
import { DeltaXdsClient } from '@ambient-ts/xds';
import type { Logging, ProxyMetrics, Readiness } from '@ambient-ts/telemetry';
import type { Config } from '../config.ts';
import { l7Handler, L7_TYPE_URL } from '../l7/l7-handler.ts';
import { L7Store } from '../l7/l7-store.ts';
import { tokenSource } from '@ambient-ts/runtime';
import { addressHandlerWithProtocols, AppProtocols } from './app-protocols.ts';
import { loadLocalFile, parseLocalFile } from './local-file.ts';
import { waypointNode } from './xds-node.ts';

const stateTask = 'state manager';

export class WaypointState {
  readonly store = new DiscoveryStore();
  readonly l7 = new L7Store();
  readonly protocols = new AppProtocols();
  readonly #config: Config;
  readonly #deps: { logging: Logging; metrics: ProxyMetrics; readiness: Readiness; version: string };
  #client: DeltaXdsClient | undefined;

  constructor(
    config: Config,
    deps: { logging: Logging; metrics: ProxyMetrics; readiness: Readiness; version: string },
  ) {
    this.#config = config;
    this.#deps = deps;
    deps.readiness.register(stateTask);
  }

  async start(): Promise<void> {
    const config = this.#config;
    const { logging, metrics, readiness } = this.#deps;
    const log = logging.scope('xds');
    if (config.localXdsPath || config.localXds) {
      const local = config.localXdsPath
        ? await loadLocalFile(config.localXdsPath)
        : parseLocalFile(config.localXds!, 'LOCAL_XDS');
      applyLocalConfig(this.store, local.config);
      const { rejected } = this.l7.apply(local.l7);
      for (const rejection of rejected)
        log.error({ resource: rejection.name, reason: rejection.reason }, 'rejected L7 object');
      log.info(
        { workloads: local.config.workloads.length, services: local.config.services.length, l7: local.l7.length },
        'loaded static config',
      );
    }
    if (!config.xdsAddress) {
      readiness.complete(stateTask);
      return;
    }
    this.#client = new DeltaXdsClient({
      address: config.xdsAddress,
      rootCert: config.xdsRootCa,
      token: tokenSource(config.authToken),
      clusterId: config.clusterId,
      node: waypointNode(config, this.#deps.version),
      handlers: {
        [ADDRESS_TYPE_URL]: addressHandlerWithProtocols(this.store, this.protocols),
        [AUTHORIZATION_TYPE_URL]: authorizationHandler(this.store),
        [L7_TYPE_URL]: l7Handler(this.l7),
      },
      headers: config.xdsHeaders,
      ...(config.altXdsHostname ? { serverName: config.altXdsHostname } : {}),
      hooks: {
        onStateChange: (state) => log.debug({ state: state.state }, 'xds client state'),
        onConnectionTermination: (reason, detail) => {
          metrics.xdsConnectionTerminations.inc({ reason });
          log.warn({ reason, detail }, 'xds stream terminated');
        },
        onMessage: (url, bytes) => {
          metrics.xdsMessages.inc({ url });
          metrics.xdsMessageBytes.inc({ url }, bytes);
        },
        onNack: (url, _nonce, message) => log.error({ url, message }, 'rejected xds resources (NACK)'),
      },
    });
    this.#client.start();
    void this.#client.whenSynced().then(() => {
      readiness.complete(stateTask);
      log.info(
        {
          workloads: this.store.workloadCount,
          services: this.store.serviceCount,
          l7: this.l7.snapshot().objects.length,
        },
        'xds synced',
      );
    });
  }

  get xdsState(): string {
    return this.#client?.state.state ?? 'disabled';
  }

  close(): void {
    this.#client?.close();
  }
}
