// Each CONNECT on the waypoint's HBONE listener: dispatch by the original destination (refuse what this
// waypoint does not serve), answer 200, decide HTTP vs TCP (declared port protocol, else sniffing), then
// serve the stream with node:http (HTTP/1.1), node:http2 (h2c prior knowledge) or the TCP proxy.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { formatSocketAddress } from '@ambient-ts/addresses';
import { serviceKey, type DiscoveryStore } from '@ambient-ts/discovery';
import type { AcceptedTunnel, ConnectRequest } from '@ambient-ts/hbone';
import { declaredProtocol, sniff, type Sniffed } from '../protocol/sniff.ts';
import { dispatch, type WaypointSelf } from '../routing/dispatch.ts';
import type { AppProtocols } from '../state/app-protocols.ts';
import type { Logging } from '@ambient-ts/telemetry';
import type { HttpHandler } from './http-handler.ts';
import { asHttpConnection, withHead } from '../stream-shims.ts';
import { isWebSocketUpgrade } from './upgrade.ts';
import type { TunnelContext } from './tunnel.ts';

type Logger = ReturnType<Logging['scope']>;

export interface InboundDeps {
  readonly store: DiscoveryStore;
  readonly self: WaypointSelf;
  readonly protocols: AppProtocols;
  readonly http: HttpHandler;
  readonly tcp: (tunnel: AcceptedTunnel, context: TunnelContext, head: Buffer) => Promise<void>;
  readonly log: Logger;
  readonly protocolDetectionTimeoutMs: number;
  readonly draining: () => boolean;
}

/** Envoy's downstream idle timeout default (1 h): idle HTTP/1.1 keep-alive connections close after it. */
const IDLE_TIMEOUT_MS = 3_600_000;

export class Inbound {
  readonly #deps: InboundDeps;
  readonly #tunnels = new Set<TunnelContext>();
  readonly #contexts = new WeakMap<object, TunnelContext>();
  readonly #http1: Server;
  #nextId = 1;

  constructor(deps: InboundDeps) {
    this.#deps = deps;
    this.#http1 = createHttpServer(
      {
        requestTimeout: 0,
        keepAliveTimeout: IDLE_TIMEOUT_MS,
        // WebSocket upgrades take the 'upgrade' path; other Upgrade headers (h2c…) are dropped as before.
        shouldUpgradeCallback: isWebSocketUpgrade,
      },
      (req, res) => this.#onHttp1Request(req, res),
    );
    this.#http1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const context = this.#contexts.get(socket);
      if (!context) {
        socket.destroy();
        return;
      }
      void this.#deps.http.handleUpgrade(req, socket, head, context);
    });
    this.#http1.on('clientError', (error, socket) => {
      deps.log.debug({ error: error.message }, 'malformed HTTP/1.1 request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Live tunnels (for /config_dump and drain). */
  tunnels(): TunnelContext[] {
    return [...this.#tunnels];
  }

  /** Drain: end idle HTTP connections now; busy ones close after their response. */
  closeIdle(): void {
    for (const tunnel of this.#tunnels) if (tunnel.inflight === 0) tunnel.closeIdle?.();
  }

  readonly onConnect = async (request: ConnectRequest): Promise<void> => {
    const deps = this.#deps;
    const decision = dispatch(deps.store, request.authority, deps.self);
    const fields = {
      'src.addr': formatSocketAddress(request.remote),
      'src.identity': request.peerIdentity,
      'dst.hbone_addr': request.rawAuthority,
    };
    if (decision.kind === 'reject') {
      request.refuse(decision.status);
      deps.log.warn({ ...fields, status: decision.status, error: decision.message }, 'tunnel refused');
      return;
    }
    if (deps.draining()) {
      request.refuse(503);
      return;
    }
    let tunnel: AcceptedTunnel;
    try {
      tunnel = request.accept();
    } catch {
      return; // the client went away
    }
    const context: TunnelContext = {
      id: this.#nextId++,
      peerIdentity: request.peerIdentity,
      remote: request.remote,
      authority: request.rawAuthority,
      target: decision,
      source: deps.store.findWorkloadByAddress(deps.self.network, request.remote.address),
      startedAt: Date.now(),
      mode: 'sniffing',
      inflight: 0,
    };
    this.#tunnels.add(context);
    void tunnel.closed.then(() => this.#tunnels.delete(context));
    const declared =
      decision.kind === 'service'
        ? declaredProtocol(deps.protocols.get(serviceKey(decision.service), decision.servicePort))
        : 'sniff';
    const sniffed: Sniffed =
      declared === 'tcp'
        ? { detected: 'tcp', head: Buffer.alloc(0) }
        : await sniff(tunnel.stream, deps.protocolDetectionTimeoutMs, declared);
    deps.log.debug({ ...fields, declared, detected: sniffed.detected }, 'tunnel accepted');
    if (sniffed.detected === 'tcp') {
      context.mode = 'tcp';
      await deps.tcp(tunnel, context, sniffed.head);
      return;
    }
    const stream = tunnel.stream.readableEnded
      ? withHead(tunnel.stream, sniffed.head)
      : asHttpConnection(tunnel.stream);
    if (sniffed.detected === 'http1') this.#serveHttp1(stream, context);
    else this.#serveH2(stream, context);
  };

  #serveHttp1(stream: Duplex, context: TunnelContext): void {
    context.mode = 'http1';
    context.closeIdle = () => stream.end();
    this.#contexts.set(stream, context);
    this.#http1.emit('connection', stream);
  }

  #onHttp1Request(req: IncomingMessage, res: ServerResponse): void {
    const context = this.#contexts.get(req.socket);
    if (!context) {
      res.writeHead(500).end();
      return;
    }
    void this.#deps.http.handle(req, res, context);
  }

  #serveH2(stream: Duplex, context: TunnelContext): void {
    context.mode = 'http2';
    // One server per tunnel: its requests carry this tunnel's context.
    // SETTINGS_ENABLE_CONNECT_PROTOCOL: RFC 8441 WebSocket (extended CONNECT, `:protocol websocket`), which
    // node:http2's compatibility layer hands to 'connect' listeners; any other CONNECT gets 405 as before.
    const server = createH2Server({ settings: { enableConnectProtocol: true } }, (req, res) => {
      void this.#deps.http.handle(req, res, context);
    });
    server.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (req.headers[':protocol'] === 'websocket') void this.#deps.http.handleH2WebSocket(req, res, context);
      else res.writeHead(405).end();
    });
    server.on('session', (session) => {
      context.closeIdle = () => session.close();
      session.on('error', () => {});
    });
    server.emit('connection', stream);
  }
}
