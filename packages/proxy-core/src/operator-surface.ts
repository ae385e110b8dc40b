// What an operator sees of a proxy, the same for ztunnel and the waypoint: its logs, its metrics registry,
// its readiness gates, and the admin (15000), metrics (15020) and readiness (15021) servers bound where the
// config says. The proxy registers its own readiness gates and supplies /config_dump and /quitquitquit.
import { listen, type HostPort, type LogFormat } from '@ambient-ts/runtime';
import {
  closeOperatorServers,
  createOperatorServers,
  Logging,
  ProxyMetrics,
  Readiness,
  type OperatorServers,
} from '@ambient-ts/telemetry';

export interface OperatorSurfaceOptions {
  /** `ztunnel` or `waypoint`: the metrics component label and the admin page title. */
  readonly component: string;
  readonly version: string;
  readonly logging: { readonly level: string; readonly format: LogFormat };
  /** Where logs go (tests capture them); default stdout. */
  readonly logDestination?: NodeJS.WritableStream;
}

export interface OperatorAddresses {
  readonly adminAddress: HostPort;
  readonly statsAddress: HostPort;
  readonly readinessAddress: HostPort;
}

export class OperatorSurface {
  readonly logging: Logging;
  readonly metrics: ProxyMetrics;
  readonly readiness = new Readiness();
  /** Bound ports (0 until `listen`). */
  readonly ports = { admin: 0, stats: 0, readiness: 0 };
  readonly #title: string;
  #servers: OperatorServers | undefined;

  constructor(options: OperatorSurfaceOptions) {
    this.#title = options.component;
    this.metrics = new ProxyMetrics({ component: options.component, version: options.version });
    this.logging = new Logging({
      format: options.logging.format,
      level: options.logging.level,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
  }

  /** Bind the three servers; rejects with runtime's BindError naming the role and address. */
  async listen(
    addresses: OperatorAddresses,
    handlers: { readonly configDump: () => unknown; readonly quit: () => void },
  ): Promise<void> {
    const servers = createOperatorServers({
      ...handlers,
      logging: this.logging,
      title: this.#title,
      metrics: this.metrics,
      readiness: this.readiness,
    });
    this.#servers = servers;
    this.ports.admin = await listen(servers.admin, addresses.adminAddress, 'admin');
    this.ports.stats = await listen(servers.stats, addresses.statsAddress, 'metrics');
    this.ports.readiness = await listen(servers.readiness, addresses.readinessAddress, 'readiness');
  }

  /** Close the servers and flush the logs (after a last log line of the proxy's). */
  async close(): Promise<void> {
    if (this.#servers) await closeOperatorServers(this.#servers);
    this.logging.flush();
  }
}
