// The HBONE server (inbound 15008): verified mTLS connections become HTTP/2 sessions with ztunnel's
// settings; each CONNECT stream is validated and handed to the application callback.
// Lifecycle (docs/lifecycle-hbone.md): idle → listening → draining → closed.
import { EventEmitter } from 'node:events';
import { constants as h2, createServer as createH2Server, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { normalizeAddress, parseAuthority, type SocketAddress } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';
import { startKeepalive } from './keepalive.ts';
import { Acceptor, type VerifiedConnection } from './server-accept.ts';
import { BufferGuard } from './server-guard.ts';
import {
  ignoreError,
  respondStatus,
  ServerConnectRequest,
  type AcceptedTunnel,
  type RequestHooks,
} from './server-request.ts';
import {
  checkServerOptions,
  type HboneServerEvents,
  type HboneServerOptions,
  type HboneServerState,
  type HboneServerStats,
} from './server-options.ts';
import { checkKeepalive, checkTuning, HBONE_DEFAULTS, serverHttp2Options } from './settings.ts';
import type { KeepaliveOptions } from './settings.ts';

interface Connection extends VerifiedConnection {
  session: ServerHttp2Session;
  tunnels: Set<ServerConnectRequest<Connection>>;
  guard: BufferGuard<ServerConnectRequest<Connection>>;
  headerTimer: NodeJS.Timeout | undefined;
}

export class HboneServer extends EventEmitter<HboneServerEvents> {
  readonly #options: HboneServerOptions;
  readonly #net: NetServer;
  readonly #h2: Http2Server;
  readonly #acceptor: Acceptor;
  readonly #connections = new Map<ServerHttp2Session, Connection>();
  readonly #keepalive: Required<KeepaliveOptions>;
  readonly #connectionWindow: number;
  readonly #headerTimeoutMs: number;
  readonly #budget: number;
  #next: VerifiedConnection | undefined;
  readonly #hooks: RequestHooks<Connection> = {
    accepted: (tunnel) => {
      this.#stats.accepted++;
      tunnel.origin.tunnels.add(tunnel);
      tunnel.origin.guard.update();
    },
    refused: () => this.#stats.refused++,
    closed: (tunnel) => {
      tunnel.origin.tunnels.delete(tunnel);
      tunnel.origin.guard.update();
    },
  };
  #state: HboneServerState = 'idle';
  #stats = { accepted: 0, refused: 0, rejectedConnections: 0, bufferResets: 0 };

  constructor(options: HboneServerOptions) {
    super();
    checkServerOptions(options);
    const tuning = checkTuning(options.http2, 'http2');
    this.#options = options;
    this.#keepalive = checkKeepalive(options.keepalive, 'keepalive');
    this.#connectionWindow = tuning.connectionWindow;
    this.#headerTimeoutMs = options.headerTimeoutMs ?? HBONE_DEFAULTS.headerTimeoutMs;
    this.#budget = options.maxBufferedPerConnection ?? HBONE_DEFAULTS.maxBufferedPerConnection;
    const streams = options.http2?.maxConcurrentStreams ?? HBONE_DEFAULTS.serverMaxConcurrentStreams;
    this.#h2 = createH2Server(serverHttp2Options(tuning, streams));
    this.#h2.on('session', (session) => this.#onSession(session));
    this.#h2.on('stream', (stream, headers) => this.#onStream(stream, headers));
    this.#acceptor = new Acceptor({
      credentials: options.credentials,
      tls12: options.tls12 ?? false,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? HBONE_DEFAULTS.handshakeTimeoutMs,
      onVerified: (connection) => this.#onVerified(connection),
      onRejected: (error, remote) => {
        this.#stats.rejectedConnections++;
        this.emit('connectionError', error, remote);
      },
    });
    this.#net = createNetServer({
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: HBONE_DEFAULTS.tcpKeepaliveIdleMs,
    });
    if (options.maxConnections !== undefined) this.#net.maxConnections = options.maxConnections;
    this.#net.on('connection', (socket) => {
      if (this.#state !== 'listening') socket.destroy();
      else this.#acceptor.accept(socket);
    });
  }

  get state(): HboneServerState {
    return this.#state;
  }

  /**
   * Bind and start accepting; resolves with the bound address (port 0 picks a free port). `{ fd }` accepts on
   * a socket that is already listening (the listener seam: ztunnel's in-pod mode creates it inside a pod's
   * network namespace); the server owns the fd from then on.
   */
  async listen(address: { host: string; port: number } | { fd: number }): Promise<SocketAddress> {
    if (this.#state !== 'idle') {
      throw new HboneError('SERVER_CLOSED', `listen() called on a server that is ${this.#state}; create a new server`);
    }
    const target = 'fd' in address ? { fd: address.fd } : { host: address.host, port: address.port };
    await new Promise<void>((resolve, reject) => {
      this.#net.once('error', reject);
      this.#net.listen(target, () => {
        this.#net.off('error', reject);
        resolve();
      });
    });
    this.#state = 'listening';
    const bound = this.#net.address() as AddressInfo;
    return { address: normalizeAddress(bound.address), port: bound.port };
  }

  /** Live accepted tunnels (e.g. to re-check authorization after a policy change). */
  tunnels(): AcceptedTunnel[] {
    return [...this.#connections.values()].flatMap((connection) => [...connection.tunnels]);
  }

  stats(): HboneServerStats {
    return {
      connections: this.#connections.size,
      handshaking: this.#acceptor.pendingCount,
      tunnels: [...this.#connections.values()].reduce((sum, connection) => sum + connection.tunnels.size, 0),
      ...this.#stats,
    };
  }

  /**
   * Stop accepting, send GOAWAY on every connection, let open tunnels finish until `deadlineMs` from
   * now, then close whatever is left. Resolves when everything is closed.
   */
  async drain(deadlineMs: number): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    this.#net.close();
    this.#acceptor.destroyPending();
    for (const connection of this.#connections.values()) connection.session.close();
    const deadline = setTimeout(() => this.#destroyAll(), Math.max(0, deadlineMs));
    deadline.unref();
    await this.#allClosed();
    clearTimeout(deadline);
    this.#state = 'closed';
  }

  /** Close everything now: open tunnels are reset. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    this.#net.close();
    this.#destroyAll();
    await this.#allClosed();
    this.#state = 'closed';
  }

  #destroyAll(): void {
    this.#acceptor.destroyPending();
    for (const connection of this.#connections.values()) {
      connection.session.destroy(undefined, h2.NGHTTP2_NO_ERROR);
      connection.socket.destroy();
    }
  }

  async #allClosed(): Promise<void> {
    const sessions = [...this.#connections.keys()].map(
      (session) => new Promise<void>((resolve) => (session.destroyed ? resolve() : session.once('close', resolve))),
    );
    const listener = new Promise<void>((resolve) => {
      if (!this.#net.listening) resolve();
      else this.#net.once('close', () => resolve());
    });
    await Promise.all([...sessions, listener]);
    await new Promise((resolve) => setImmediate(resolve));
  }

  #onVerified(connection: VerifiedConnection): void {
    if (this.#state !== 'listening') {
      connection.socket.destroy();
      return;
    }
    // 'session' fires synchronously from emit('connection'), which is how it finds this record.
    this.#next = connection;
    this.#h2.emit('connection', connection.socket);
    this.#next = undefined;
  }

  #onSession(session: ServerHttp2Session): void {
    const verified = this.#next;
    if (!verified) {
      session.destroy();
      return;
    }
    const tunnels = new Set<ServerConnectRequest<Connection>>();
    const connection: Connection = {
      ...verified,
      session,
      tunnels,
      guard: new BufferGuard(tunnels, this.#budget, () => this.#stats.bufferResets++),
      headerTimer: setTimeout(() => session.destroy(), this.#headerTimeoutMs),
    };
    connection.headerTimer!.unref();
    this.#connections.set(session, connection);
    session.on('error', () => {});
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(this.#connectionWindow);
      } catch {
        // Session already gone.
      }
    });
    const stopKeepalive = startKeepalive(session, this.#keepalive, () => session.destroy());
    session.once('close', () => {
      stopKeepalive();
      clearTimeout(connection.headerTimer);
      connection.guard.stop();
      this.#connections.delete(session);
      connection.socket.destroy();
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Errors reach whoever consumes the tunnel; without a listener a client RST would crash the process.
    stream.on('error', ignoreError);
    const connection = this.#connections.get(stream.session as ServerHttp2Session);
    if (!connection) {
      stream.close(h2.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (connection.headerTimer) {
      clearTimeout(connection.headerTimer);
      connection.headerTimer = undefined;
    }
    if (headers[':method'] !== 'CONNECT') {
      this.#stats.refused++;
      respondStatus(stream, 400);
      return;
    }
    let authority;
    try {
      authority = parseAuthority(headers[':authority'] ?? '');
    } catch {
      this.#stats.refused++;
      respondStatus(stream, 400);
      return;
    }
    const request = new ServerConnectRequest(stream, headers, authority, connection, this.#hooks);
    const fail = (): void => {
      if (request.state === 'pending') request.refuse(503);
    };
    try {
      const result = this.#options.onConnect(request);
      if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).catch(fail);
    } catch {
      fail();
    }
  }
}

export function createHboneServer(options: HboneServerOptions): HboneServer {
  return new HboneServer(options);
}
