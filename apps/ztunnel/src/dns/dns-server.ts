// ztunnel's DNS proxy (facts §10): one DnsProxy (mesh answers from the store, forwarding to resolv.conf's
// upstreams) shared by every server. Node and dedicated modes bind ISTIO_META_DNS_PROXY_ADDR on ztunnel's own
// address; shared mode will call `createDnsServer` per pod with sockets made inside the pod's netns.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import {
  DnsProxy,
  Forwarder,
  bindDnsSockets,
  podSearchDomains,
  readResolvConf,
  serveDns,
  type DnsEvent,
  type DnsProxyOptions,
  type DnsTransport,
  type ForwarderOptions,
  type UpstreamSockets,
} from '@ambient-ts/dns';
import { workloadIdentity, type Workload } from '@ambient-ts/discovery';
import type { Logger } from 'pino';
import type { Logging, ProxyMetrics } from '@ambient-ts/telemetry';
import type { Config } from '../config.ts';
import type { ProxyState } from '../proxy-state.ts';
import { DnsMetrics } from './metrics.ts';
import { markedUpstreamSockets } from './upstream-sockets.ts';

/** How long a query waits for its client's workload before SERVFAIL (ztunnel's 5 s). */
export const CLIENT_WAIT_MS = 5000;
/**
 * Queries one source address may have waiting for its workload at once; more are answered SERVFAIL at once, so
 * a flood from an unknown address cannot fill the server's in-flight budget for 5 s and starve the known pods.
 */
export const MAX_WAITING_PER_SOURCE = 16;

export interface DnsServerSockets {
  /** A bound UDP socket (in shared mode: made in the pod's netns). */
  readonly udp?: UdpSocket;
  /** A listening TCP server on the same address. */
  readonly tcp?: TcpServer;
  /** The pod asking: in shared mode always the pod the sockets belong to. */
  readonly clientWorkload: (remote: { address: string; port: number }) => Promise<Workload | undefined>;
  /**
   * Shared mode: how this pod's upstream queries get their sockets (made inside the pod's netns, marked 1337).
   * Given, the server gets its own forwarder (same upstreams and timeouts); otherwise ztunnel's is shared.
   */
  readonly upstreamSockets?: UpstreamSockets;
}

type ProxySettings = Omit<DnsProxyOptions<Workload>, 'forwarder'>;
type ForwarderSettings = Omit<ForwarderOptions, 'sockets'>;

export class ZtunnelDns {
  readonly proxy: DnsProxy<Workload>;
  readonly metrics: DnsMetrics;
  /** Where the node/dedicated-mode server listens (empty: disabled or not bound). */
  readonly addresses: { host: string; port: number }[] = [];
  readonly #transports = new Set<DnsTransport>();
  readonly #logging: Logging;
  readonly #settings: { proxy: ProxySettings; forwarder: ForwarderSettings };
  readonly #proxyMetrics: ProxyMetrics;

  private constructor(
    settings: { proxy: ProxySettings; forwarder: ForwarderSettings },
    sockets: UpstreamSockets,
    metrics: DnsMetrics,
    logging: Logging,
    proxyMetrics: ProxyMetrics,
  ) {
    this.#settings = settings;
    this.#proxyMetrics = proxyMetrics;
    this.proxy = new DnsProxy({ ...settings.proxy, forwarder: new Forwarder({ ...settings.forwarder, sockets }) });
    this.metrics = metrics;
    this.#logging = logging;
  }

  /** The resolver and forwarder (always, so SOCKS5 and on-demand lookups can use them), no sockets yet. */
  static async create(
    config: Config,
    deps: {
      state: ProxyState;
      metrics: ProxyMetrics;
      logging: Logging;
      /** SO_MARK of the upstream sockets (PACKET_MARK, or dedicated capture's mark). */
      mark?: number | undefined;
      upstreamSockets?: UpstreamSockets;
    },
  ): Promise<ZtunnelDns> {
    const resolvConf = await readResolvConf(config.dns.resolvConf);
    const forwarder: ForwarderSettings = {
      upstreams: resolvConf.nameservers,
      timeoutMs: config.dns.upstreamTimeoutMs ?? resolvConf.timeoutMs,
      attempts: resolvConf.attempts,
    };
    const metrics = new DnsMetrics(deps.metrics.registry);
    const log = deps.logging.scope('dns');
    // dedicated mode: the workload's own resolv.conf search list; node/shared: the pod's synthetic one
    const searchDomains =
      config.proxyMode === 'dedicated'
        ? () => resolvConf.search
        : (client: Workload) => podSearchDomains(client.namespace, config.clusterDomain);
    const proxy: ProxySettings = {
      view: deps.state.store,
      clusterDomain: config.clusterDomain,
      ipv6Enabled: config.ipv6Enabled,
      ...(config.dns.preferredServiceNamespace ? { preferredNamespace: config.dns.preferredServiceNamespace } : {}),
      searchDomains,
      onEvent: (event) => {
        metrics.record(event);
        accessLog(log, event);
      },
    };
    log.info(
      { upstreams: resolvConf.nameservers.map((u) => `${u.host}:${u.port}`), resolvConf: config.dns.resolvConf },
      'dns resolver ready',
    );
    const sockets = deps.upstreamSockets ?? (await markedUpstreamSockets(deps.mark));
    return new ZtunnelDns({ proxy, forwarder }, sockets, metrics, deps.logging, deps.metrics);
  }

  /** Serve DNS on sockets the caller made (shared mode: one per pod, inside its netns). */
  createDnsServer(sockets: DnsServerSockets): DnsTransport {
    const proxy = sockets.upstreamSockets
      ? new DnsProxy({
          ...this.#settings.proxy,
          forwarder: new Forwarder({ ...this.#settings.forwarder, sockets: sockets.upstreamSockets }),
        })
      : this.proxy;
    const transport = serveDns({
      ...(sockets.udp ? { udp: sockets.udp } : {}),
      ...(sockets.tcp ? { tcp: sockets.tcp } : {}),
      handle: (message, context) =>
        proxy.handle(message, { ...context, client: () => sockets.clientWorkload(context.remote) }),
      onDrop: (reason, remote) =>
        this.#logging.scope('dns').debug({ src: `${remote.address}:${remote.port}`, reason }, 'dns message dropped'),
    });
    const handle: DnsTransport = {
      stats: transport.stats,
      close: async () => {
        this.#transports.delete(handle);
        await transport.close();
        if (proxy !== this.proxy) proxy.forwarder.close();
      },
    };
    this.#transports.add(handle);
    return handle;
  }

  /**
   * Node and dedicated modes: bind UDP + TCP on each host of ISTIO_META_DNS_PROXY_ADDR (`localhost` = 127.0.0.1
   * and, with IPv6, ::1). The client is the workload owning the query's source IP (node) or the one workload
   * served (dedicated), waited for up to 5 s.
   */
  async listen(config: Config, state: ProxyState): Promise<void> {
    const log = this.#logging.scope('dns');
    const { hosts, port } = config.dns.address;
    let boundPort = port;
    for (const [index, host] of hosts.entries()) {
      let sockets;
      try {
        sockets = await bindDnsSockets(host, boundPort);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // ::1 on a host without IPv6 loopback is skipped, as ztunnel downgrades localhost to IPv4
        if (index > 0 && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        throw Object.assign(new Error(`DNS proxy: cannot bind ${host}:${boundPort}: ${(error as Error).message}`), {
          code,
        });
      }
      boundPort = sockets.port; // port 0: the second host takes the port the first got
      this.addresses.push({ host, port: sockets.port });
      this.createDnsServer({
        udp: sockets.udp,
        tcp: sockets.tcp,
        clientWorkload: (remote) => this.#waitForClient(state, remote.address),
      });
    }
    log.info({ addresses: this.addresses.map((a) => `${a.host}:${a.port}`) }, 'starting local DNS server');
  }

  /**
   * On-demand DNS for a workload known only by hostname (ztunnel's `resolve_on_demand_dns`): counted in
   * istio_on_demand_dns_total with the source's labels and the hostname, then resolved like any query.
   */
  resolveOnDemand(hostname: string, source: Workload): Promise<string | undefined> {
    const known = (value: string): string => value || 'unknown';
    this.#proxyMetrics.onDemandDns.inc({
      source_workload: known(source.workloadName || source.name),
      source_canonical_service: known(source.canonicalName),
      source_canonical_revision: known(source.canonicalRevision),
      source_workload_namespace: known(source.namespace),
      source_principal: workloadIdentity(source),
      source_app: known(source.canonicalName),
      source_version: known(source.canonicalRevision),
      source_cluster: known(source.clusterId),
      hostname,
    });
    return this.resolveHost(hostname, source);
  }

  readonly #waiting = new Map<string, number>();

  /** The workload of a query's source (node: by IP; dedicated: the one), waiting up to 5 s — a few at a time. */
  async #waitForClient(state: ProxyState, address: string): Promise<Workload | undefined> {
    const waiting = this.#waiting.get(address) ?? 0;
    if (waiting >= MAX_WAITING_PER_SOURCE) return state.sourceWorkload(address, 0);
    this.#waiting.set(address, waiting + 1);
    try {
      return await state.sourceWorkload(address, CLIENT_WAIT_MS);
    } finally {
      const left = (this.#waiting.get(address) ?? 1) - 1;
      if (left === 0) this.#waiting.delete(address);
      else this.#waiting.set(address, left);
    }
  }

  /** The first address `name` resolves to for `client` (SOCKS5 domain targets, on-demand lookups). */
  async resolveHost(name: string, client: Workload): Promise<string | undefined> {
    try {
      return (await this.proxy.lookup(name, client))[0];
    } catch {
      return undefined;
    }
  }

  /** Stop the servers (stop accepting and reading); the forwarder's sockets close too. */
  async close(): Promise<void> {
    await Promise.all([...this.#transports].map((transport) => transport.close()));
    this.proxy.forwarder.close();
  }
}

function accessLog(log: Logger, event: DnsEvent<Workload>): void {
  if (!log.isLevelEnabled('debug')) return; // one line per query: build it only when it is written
  if (event.kind === 'rejected') {
    log.debug(
      {
        src: `${event.remote.address}:${event.remote.port}`,
        protocol: event.protocol,
        reason: event.reason,
        rcode: event.rcode ?? 'dropped',
      },
      'dns request rejected',
    );
    return;
  }
  log.debug(
    {
      'src.addr': `${event.remote.address}:${event.remote.port}`,
      'src.workload': event.client?.name ?? 'unknown',
      'src.namespace': event.client?.namespace ?? 'unknown',
      protocol: event.protocol,
      query: event.question.type,
      domain: event.question.name,
      result: event.result,
      rcode: event.rcode,
      endpoints: event.answers,
      ...(event.upstream
        ? { upstream: event.upstream.address ?? '', duration: `${Math.round(event.upstream.seconds * 1000)}ms` }
        : {}),
    },
    'dns request',
  );
}
