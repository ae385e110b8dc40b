// One pod's proxy in shared (in-pod) mode, facts §9.1: listeners created inside the pod's network namespace
// (15001 outbound, 15006 plaintext inbound, 15008 HBONE; wildcard, SO_REUSEPORT, marked PACKET_MARK; DNS on
// ISTIO_META_DNS_PROXY_ADDR, UDP + TCP, when ISTIO_META_DNS_CAPTURE is on) and every
// socket it dials made there too, marked, through hbone's SocketFactory seam: its own HBONE pool, plain-TCP
// upstreams, and the app behind an inbound connection (from the client's IP when original-source preservation
// is on, facts §1.11). After capture the data path is node mode's: handleOutbound, inboundHandler,
// passthroughHandler, the same metrics, access logs, policy and certificates.
//
//   starting ──listeners bound──▶ running ──drain (Del, reconcile, replaced, shutdown)──▶ draining ──▶ stopped
//       └──a listener failed──▶ (closed again; start rejects naming the pod and what failed)
import { closeSync } from 'node:fs';
import { isIP, Server, type Socket } from 'node:net';
import { formatHostPort, isLoopback, normalizeAddress } from '@ambient-ts/addresses';
import { workloadIdentity, type Workload } from '@ambient-ts/discovery';
import { HbonePool, type HboneServer, type SocketFactory } from '@ambient-ts/hbone';
import type * as Netns from '@ambient-ts/netns';
import type { DnsTransport } from '@ambient-ts/dns';
import type { Logger } from 'pino';
import type { Authorizer } from '../authorization.ts';
import type { Config } from '../config.ts';
import type { ConnectionManager } from '../connection-manager.ts';
import type { ZtunnelDns } from '../dns/dns-server.ts';
import { namespaceUpstreamSockets } from '../dns/upstream-sockets.ts';
import type { WorkloadIdentities } from '../identity.ts';
import { inboundHandler } from '../inbound.ts';
import { passthroughHandler } from '../inbound-passthrough.ts';
import { createInboundServer, http2Tuning } from '../inbound-server.ts';
import { inpodOriginalDestination } from '../original-destination.ts';
import { handleOutbound, type OutboundDeps } from '../outbound.ts';
import type { ProxyState } from '../proxy-state.ts';
import type { TrafficReporter } from '../traffic.ts';
import type { NetnsId, PodInfo } from './protocol.ts';

export const OUTBOUND_PORT = 15001;
export const PLAINTEXT_PORT = 15006;
export const HBONE_PORT = 15008;

/** ztunnel waits this long for a pod's workload to appear in discovery (facts §2.1 step 1). */
const WORKLOAD_WAIT_MS = 5000;

/** What every pod proxy shares: discovery, certificates, policy, telemetry and the process-wide connection list. */
export interface DataPath {
  config: Config;
  state: ProxyState;
  identities: WorkloadIdentities;
  authorizer: Authorizer;
  connections: ConnectionManager;
  traffic: TrafficReporter;
  log: { proxy: Logger; inbound: Logger; outbound: Logger };
  illegalPorts: readonly number[];
  /**
   * ztunnel's DNS proxy when ISTIO_META_DNS_CAPTURE is on: each pod then serves it on ISTIO_META_DNS_PROXY_ADDR
   * (UDP + TCP) inside its namespace, its upstream queries made there too, marked.
   */
  dns?: ZtunnelDns;
}

export type PodProxyState = 'starting' | 'running' | 'draining' | 'stopped';

export interface PodProxyStatus {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** The pod's network namespace as `dev:ino`. */
  netns: string;
  state: PodProxyState;
  listeners: { address: string; port: number; purpose: 'outbound' | 'plaintext' | 'hbone' }[];
  /** The pod's DNS proxy (ISTIO_META_DNS_PROXY_ADDR inside its namespace), UDP + TCP; empty when DNS capture is off. */
  dns: { address: string; port: number; protocols: ['udp', 'tcp'] }[];
  /** Whether connections to the app keep the client's IP as source (IP_TRANSPARENT on this pod's listeners). */
  originalSource: boolean;
  connections: number;
}

export interface PodProxyOptions {
  uid: string;
  info: PodInfo;
  /** Owned by the proxy once start resolves (closed when it stops); untouched when start rejects. */
  netnsFd: number;
  netnsId: NetnsId;
  netns: typeof Netns;
  data: DataPath;
}

/** A pod proxy's start failed: the message says what failed and why (the ZDS NACK names the pod around it). */
export class PodStartError extends Error {
  override readonly name = 'PodStartError';
}

export const sameNamespace = (a: NetnsId, b: NetnsId): boolean => a.dev === b.dev && a.ino === b.ino;

export class PodProxy {
  readonly uid: string;
  readonly info: PodInfo;
  readonly netnsId: NetnsId;
  readonly #fd: number;
  readonly #netns: typeof Netns;
  readonly #data: DataPath;
  readonly #log: Logger;
  readonly #connections: ConnectionManager;
  readonly #pool: HbonePool;
  #state: PodProxyState = 'starting';
  #outbound: Server | undefined;
  #plaintext: Server | undefined;
  #hbone: HboneServer | undefined;
  /** The DNS servers on ISTIO_META_DNS_PROXY_ADDR's hosts inside the pod (one per host). */
  readonly #dns: { address: string; port: number; transport: DnsTransport }[] = [];
  #transparent = false;
  #drained: Promise<void> | undefined;

  private constructor(options: PodProxyOptions) {
    this.uid = options.uid;
    this.info = options.info;
    this.netnsId = options.netnsId;
    this.#fd = options.netnsFd;
    this.#netns = options.netns;
    this.#data = options.data;
    this.#log = options.data.log.proxy.child({ pod: this.podName, uid: this.uid });
    this.#connections = options.data.connections.scoped();
    const { config } = options.data;
    this.#pool = new HbonePool({
      maxStreamsPerConnection: config.pool.maxStreamsPerConnection,
      idleReleaseMs: config.pool.unusedReleaseTimeoutMs,
      tls12: config.tls12Enabled,
      http2: http2Tuning(config),
      socketFactory: this.#dialer,
    });
  }

  /** Bind the pod's listeners inside its namespace; rejects with a PodStartError (nothing left open). */
  static async start(options: PodProxyOptions): Promise<PodProxy> {
    const proxy = new PodProxy(options);
    try {
      await proxy.#listen();
    } catch (error) {
      await proxy.#closeListeners();
      await proxy.#pool.close().catch(() => {});
      proxy.#state = 'stopped';
      throw error;
    }
    proxy.#state = 'running';
    proxy.#log.info(
      {
        netns: proxy.#netnsText(),
        originalSource: proxy.#transparent,
        listeners: proxy.#listeners(),
        dns: proxy.#dnsStatus().map((d) => formatHostPort(d.address, d.port)),
      },
      'pod proxy started',
    );
    return proxy;
  }

  get podName(): string {
    return `${this.info.namespace}/${this.info.name}`;
  }

  get state(): PodProxyState {
    return this.#state;
  }

  status(): PodProxyStatus {
    return {
      uid: this.uid,
      name: this.info.name,
      namespace: this.info.namespace,
      serviceAccount: this.info.serviceAccount,
      netns: this.#netnsText(),
      state: this.#state,
      listeners: this.#listeners(),
      dns: this.#dnsStatus(),
      originalSource: this.#transparent,
      connections: this.#connections.size,
    };
  }

  /** Stop accepting: new connections to this pod's ports are refused from now on. */
  stopAccepting(): void {
    if (this.#state === 'running' || this.#state === 'starting') this.#state = 'draining';
    this.#outbound?.close();
    this.#plaintext?.close();
    this.#closeDns();
  }

  /**
   * Drain: stop accepting, GOAWAY to HBONE peers, let this pod's connections run until the deadline, close
   * the rest (`connection closed due to connection drain`), then release the pool and the namespace fd.
   */
  drain(deadlineMs: number): Promise<void> {
    this.#drained ??= (async () => {
      this.stopAccepting();
      this.#log.info({ deadlineMs, connections: this.#connections.size }, 'draining pod proxy');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, deadlineMs))),
      );
      // The HBONE server's own deadline (it destroys its sessions) is set after ours, so at the deadline our
      // close with the drain reason runs first; the other way round a drained connection was logged as an
      // ordinary completion whenever the two timers fell into different milliseconds.
      const hbone = this.#hbone?.drain(deadlineMs).catch(() => {}) ?? Promise.resolve();
      const timedOut = await Promise.race([this.#connections.whenIdle().then(() => false), deadline]);
      clearTimeout(timer);
      const forced = timedOut
        ? this.#connections.closeAll({ kind: 'drain', message: 'connection closed due to connection drain' })
        : 0;
      await hbone;
      await this.#dnsClosed;
      await this.#pool.close().catch(() => {});
      closeSync(this.#fd);
      this.#state = 'stopped';
      this.#log.info({ forced }, 'pod proxy stopped');
    })();
    return this.#drained;
  }

  // --- sockets inside the pod's namespace

  /** Outbound sockets (HBONE pool, plain-TCP upstreams): made in the pod's namespace, marked. */
  readonly #dialer: SocketFactory = (target) =>
    this.#netns.connectInNamespace({
      netns: this.#fd,
      host: target.host,
      port: target.port,
      ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }),
      ...this.#mark(),
    });

  /** The app behind an inbound connection: from the client's IP when this pod's listeners are transparent. */
  #appDialer(clientIp: string): SocketFactory {
    return (target) => {
      const spoof =
        this.#transparent &&
        clientIp !== target.host &&
        !isLoopback(target.host) &&
        isIP(clientIp) !== 0 &&
        isIP(clientIp) === isIP(target.host);
      return this.#netns.connectInNamespace({
        netns: this.#fd,
        host: target.host,
        port: target.port,
        ...this.#mark(),
        ...(spoof ? { localAddress: clientIp, transparent: true, freebind: true } : {}),
      });
    };
  }

  #mark(): { mark?: number } {
    const mark = this.#data.config.packetMark;
    return mark === undefined ? {} : { mark };
  }

  async #listen(): Promise<void> {
    const { config } = this.#data;
    const wantTransparent = config.originalSource !== 'off';
    // Inbound first: whether these can be transparent decides original-source preservation for the pod.
    const hboneFd = this.#listenFd(HBONE_PORT, wantTransparent);
    const hbone = createInboundServer({
      config,
      traffic: this.#data.traffic,
      credentials: async () => {
        const workload = await this.#podWorkload();
        if (!workload) throw new Error(`no workload for pod ${this.podName} in discovery`);
        return this.#data.identities.credentials(workloadIdentity(workload));
      },
      onConnect: inboundHandler({
        ...this.#common(),
        log: this.#data.log.inbound,
        enableResponseBaggage: config.enableResponseBaggage,
        localhostAppTunnel: config.localhostAppTunnel,
        dialApp: (clientIp) => this.#appDialer(clientIp),
      }),
    });
    try {
      await hbone.listen({ fd: hboneFd.fd });
    } catch (error) {
      closeSync(hboneFd.fd);
      throw this.#startError(`accepting HBONE on ${HBONE_PORT} failed`, error);
    }
    this.#hbone = hbone;
    this.#transparent = hboneFd.transparent;
    const onPlaintext = passthroughHandler({
      ...this.#common(),
      log: this.#data.log.inbound,
      originalDestination: inpodOriginalDestination((socket) => this.#netns.originalDestination(socket)),
      dialApp: (clientIp) => this.#appDialer(clientIp),
    });
    this.#plaintext = await this.#serve(PLAINTEXT_PORT, this.#transparent, (socket) => void onPlaintext(socket));
    const outbound: OutboundDeps = {
      ...this.#common(),
      identities: this.#data.identities,
      pool: this.#pool,
      log: this.#data.log.outbound,
      onDemand: config.xdsOnDemand,
      socketFactory: this.#dialer,
    };
    this.#outbound = await this.#serve(OUTBOUND_PORT, false, (socket) => void this.#onOutbound(outbound, socket));
    if (this.#data.dns) await this.#listenDns(this.#data.dns);
  }

  /**
   * DNS on ISTIO_META_DNS_PROXY_ADDR inside the pod (facts §9.1, §10): UDP + TCP per host (`localhost` =
   * 127.0.0.1 and ::1; a ::1 the pod lacks is skipped), marked; the client is always this pod, and its
   * upstream queries are made from its namespace with the mark (so the redirect rules let them pass). A bind
   * failure fails the pod start like any other listener (ztunnel's proxy factory returns the DNS server's
   * error too): NACK, retried every 5 s.
   */
  async #listenDns(dns: ZtunnelDns): Promise<void> {
    const { hosts, port } = this.#data.config.dns.address;
    const upstreamSockets = namespaceUpstreamSockets(this.#netns, { netnsFd: this.#fd, ...this.#mark() });
    let boundPort = port;
    for (const [index, host] of hosts.entries()) {
      let udp: Awaited<ReturnType<typeof Netns.bindUdpInNamespace>>;
      try {
        udp = await this.#netns.bindUdpInNamespace({ netns: this.#fd, host, port: boundPort, ...this.#mark() });
      } catch (error) {
        const errno = (error as Netns.NetnsError).errno;
        if (index > 0 && (errno === 'EADDRNOTAVAIL' || errno === 'EAFNOSUPPORT')) continue;
        throw this.#startError(
          `DNS on udp ${formatHostPort(host, boundPort)} inside the pod's network namespace failed`,
          error,
        );
      }
      boundPort = udp.address().port; // port 0: TCP and the next host take the port UDP got
      let tcp: Server;
      try {
        tcp = await this.#netns.listenInNamespace({ netns: this.#fd, host, port: boundPort, ...this.#mark() });
      } catch (error) {
        udp.close();
        throw this.#startError(
          `DNS on tcp ${formatHostPort(host, boundPort)} inside the pod's network namespace failed`,
          error,
        );
      }
      const transport = dns.createDnsServer({
        udp,
        tcp,
        clientWorkload: () => this.#podWorkload(),
        upstreamSockets,
      });
      this.#dns.push({ address: host, port: boundPort, transport });
    }
  }

  #dnsClosed: Promise<void> = Promise.resolve();

  #closeDns(): void {
    const open = this.#dns.splice(0);
    if (open.length === 0) return;
    this.#dnsClosed = Promise.all(open.map((d) => d.transport.close().catch(() => {}))).then(() => {});
  }

  #dnsStatus(): PodProxyStatus['dns'] {
    return this.#dns.map((d) => ({ address: d.address, port: d.port, protocols: ['udp', 'tcp'] }));
  }

  #common(): {
    state: ProxyState;
    authorizer: Authorizer;
    connections: ConnectionManager;
    traffic: TrafficReporter;
    network: string;
    illegalPorts: readonly number[];
  } {
    const { state, authorizer, traffic, config, illegalPorts } = this.#data;
    return { state, authorizer, connections: this.#connections, traffic, network: config.network, illegalPorts };
  }

  /**
   * A listening fd inside the pod's namespace. With `transparent`, ENABLE_ORIG_SRC decides what happens when
   * IP_TRANSPARENT cannot be set: best effort → listen without it, required → the pod does not start.
   */
  #listenFd(port: number, transparent: boolean): { fd: number; transparent: boolean } {
    const { config } = this.#data;
    const options: Netns.ListenOptions = {
      netns: this.#fd,
      host: config.ipv6Enabled ? '::' : '0.0.0.0',
      port,
      reusePort: config.inpodPortReuse,
      ...this.#mark(),
    };
    const where = `listening on ${formatHostPort(options.host, port)} inside the pod's network namespace`;
    if (transparent) {
      try {
        return { fd: this.#netns.listenFd({ ...options, transparent: true }), transparent: true };
      } catch (error) {
        if (config.originalSource === 'required') {
          throw this.#startError(
            `${where} with IP_TRANSPARENT failed and ENABLE_ORIG_SRC=true requires original-source preservation`,
            error,
          );
        }
        this.#log.warn(
          { port, error: (error as Error).message },
          'IP_TRANSPARENT unavailable: connections to the app will not keep the client IP',
        );
      }
    }
    try {
      return { fd: this.#netns.listenFd(options), transparent: false };
    } catch (error) {
      throw this.#startError(`${where} failed`, error);
    }
  }

  async #serve(port: number, transparent: boolean, onConnection: (socket: Socket) => void): Promise<Server> {
    const { fd } = this.#listenFd(port, transparent);
    const server = new Server({ noDelay: true, allowHalfOpen: true }, onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      closeSync(fd);
      throw this.#startError(`accepting on ${port} failed`, error);
    }
    return server;
  }

  #startError(what: string, cause: unknown): PodStartError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    // The ZDS client's NACK names the pod (uid, namespace/name) around this text.
    return new PodStartError(`${what}: ${detail}`, { cause });
  }

  // --- outbound (15001)

  async #onOutbound(deps: OutboundDeps, client: Socket): Promise<void> {
    client.on('error', () => {});
    const clientIp = normalizeAddress(client.remoteAddress ?? '');
    let destination: { ip: string; port: number };
    try {
      const original = this.#netns.originalDestination(client);
      destination = { ip: normalizeAddress(original.address), port: original.port };
    } catch (error) {
      this.#log.warn({ src: clientIp, error: (error as Error).message }, 'outbound: no original destination');
      client.destroy();
      return;
    }
    if (isLoopback(destination.ip) && this.#data.illegalPorts.includes(destination.port)) {
      // Facts §2.1 step 0, before the source lookup: a pod dialling its own localhost:15001 is not redirected
      // and its loopback address is no workload (the lookup would hold the connection for 5 s).
      this.#data.traffic.failed(
        {
          direction: 'outbound',
          sourceAddress: formatHostPort(clientIp, client.remotePort ?? 0),
          destinationAddress: formatHostPort(destination.ip, destination.port),
          mutualTls: false,
        },
        `attempted recursive call to ourselves on illegal port ${destination.port}`,
      );
      client.destroy();
      return;
    }
    const source = await this.#sourceWorkload(clientIp);
    if (!source.workload) {
      this.#log.warn(
        {
          src: formatHostPort(clientIp, client.remotePort ?? 0),
          dst: formatHostPort(destination.ip, destination.port),
        },
        `outbound connection refused: ${source.error}`,
      );
      client.destroy();
      return;
    }
    await handleOutbound(deps, { client, source: source.workload, destination }, (failure) => {
      // Nothing to answer on a captured connection: a failure closes it, success lets bytes flow.
      if (failure) client.destroy();
    });
  }

  /**
   * The source of an outbound connection: the local workload at the client's IP (waiting up to 5 s for
   * discovery, like ztunnel), which must be this pod (name and namespace of its WorkloadInfo).
   */
  async #sourceWorkload(clientIp: string): Promise<{ workload?: Workload; error: string }> {
    const workload = await this.#data.state.waitForLocalWorkload(clientIp, WORKLOAD_WAIT_MS);
    if (!workload) {
      return {
        error: `no local workload at ${clientIp} in discovery after ${WORKLOAD_WAIT_MS} ms (pod ${this.podName})`,
      };
    }
    if (!this.#isPod(workload)) {
      return {
        error: `the workload at ${clientIp} is ${workload.namespace}/${workload.name}, not this pod (${this.podName})`,
      };
    }
    return { workload, error: '' };
  }

  /** This pod's workload in discovery (for the certificate its HBONE listener presents). */
  #podWorkload(): Promise<Workload | undefined> {
    const { state } = this.#data;
    return state.waitForWorkload(() => state.localWorkloads().find((w) => this.#isPod(w)), WORKLOAD_WAIT_MS);
  }

  #isPod(workload: Workload): boolean {
    return workload.name === this.info.name && workload.namespace === this.info.namespace;
  }

  #netnsText(): string {
    return `${this.netnsId.dev}:${this.netnsId.ino}`;
  }

  #listeners(): PodProxyStatus['listeners'] {
    const host = this.#data.config.ipv6Enabled ? '::' : '0.0.0.0';
    const open = (server: { listening: boolean } | undefined) => server?.listening === true;
    return [
      ...(open(this.#outbound) ? [{ address: host, port: OUTBOUND_PORT, purpose: 'outbound' as const }] : []),
      ...(open(this.#plaintext) ? [{ address: host, port: PLAINTEXT_PORT, purpose: 'plaintext' as const }] : []),
      ...(this.#hbone?.state === 'listening' ? [{ address: host, port: HBONE_PORT, purpose: 'hbone' as const }] : []),
    ];
  }

  async #closeListeners(): Promise<void> {
    this.#outbound?.close();
    this.#plaintext?.close();
    this.#closeDns();
    await this.#dnsClosed;
    await this.#hbone?.close().catch(() => {});
  }
}
