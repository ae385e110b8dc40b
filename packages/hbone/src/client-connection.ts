// One client HBONE connection (mTLS + HTTP/2) and the CONNECT streams opened on it.
// States: open → draining (GOAWAY received or close() called: no new streams) → closed.
import { EventEmitter } from 'node:events';
import { constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { HboneError } from './errors.ts';
import { sendRstStream } from './h2-reset.ts';

export type ClientConnectionState = 'open' | 'draining' | 'closed';

export interface OpenTunnelOptions {
  /** `:authority`: the original destination (`ip:port`, `[v6]:port` or `host:port`). */
  authority: string;
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

/** A CONNECT that was answered 200. */
export interface HboneTunnel {
  /**
   * The tunnel's bytes. `end()` sends END_STREAM; 'end' is the server's half-close. A reset arrives as
   * 'error' (Node may emit 'end' just before it: use `splice()` to get the mapping right). The stream
   * always has an 'error' listener, so an unobserved reset cannot crash the process.
   */
  stream: Duplex;
  status: number;
  /** Response headers, e.g. `baggage` describing the destination. */
  headers: IncomingHttpHeaders;
  /** The server identity that matched the expectation. */
  peerIdentity: string;
}

export interface HboneConnectionEvents {
  /** No new streams may be opened any more (GOAWAY, error, close). */
  unusable: [];
  streamClosed: [];
  close: [];
}

const ignore = (): void => {};

function streamError(error: unknown, rstCode: number | undefined, authority: string): HboneError {
  if (HboneError.isHboneError(error)) return error;
  const code = (error as { code?: string })?.code;
  if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION') {
    return new HboneError('CONNECTION_CLOSED', `the HBONE connection closed before ${authority} was answered`, {
      cause: error,
    });
  }
  const h2Code = rstCode ?? h2.NGHTTP2_INTERNAL_ERROR;
  return new HboneError(
    'TUNNEL_RESET',
    `the CONNECT to ${authority} was reset (HTTP/2 error code ${h2Code})${h2Code === h2.NGHTTP2_REFUSED_STREAM ? ': the server refused the stream (too many streams?)' : ''}`,
    { h2Code, cause: error },
  );
}

const kPending = Symbol('hbone.pendingTunnel');

interface Pending {
  connection: HboneConnection;
  authority: string;
  resolve: (tunnel: HboneTunnel) => void;
  reject: (error: unknown) => void;
  lastError: unknown;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const kConnection = Symbol('hbone.connection');

type TunnelStream = ClientHttp2Stream & { [kPending]?: Pending | undefined; [kConnection]?: HboneConnection };

/** Take the pending record off the stream (once): the tunnel is answered or gone. */
function settle(stream: TunnelStream): Pending | undefined {
  const pending = stream[kPending];
  if (!pending) return undefined;
  stream[kPending] = undefined;
  if (pending.signal && pending.onAbort) pending.signal.removeEventListener('abort', pending.onAbort);
  return pending;
}

// Listeners are called with the stream as `this`.
function pendingError(this: TunnelStream, error: unknown): void {
  const pending = this[kPending];
  if (pending) pending.lastError = error;
}

function tunnelClose(this: TunnelStream): void {
  this[kConnection]?.streamClosed();
  const pending = settle(this);
  if (pending) pending.reject(streamError(pending.lastError, this.rstCode, pending.authority));
}

function pendingResponse(this: TunnelStream, headers: IncomingHttpHeaders): void {
  const pending = settle(this);
  if (!pending) return;
  const status = Number(headers[':status']);
  if (status === 200) {
    pending.resolve({ stream: this, status, headers, peerIdentity: pending.connection.peerIdentity });
    return;
  }
  this.close(h2.NGHTTP2_NO_ERROR);
  pending.reject(
    new HboneError('TUNNEL_REFUSED', `the server answered HTTP ${status} to CONNECT ${pending.authority}`, {
      status,
    }),
  );
}

export class HboneConnection extends EventEmitter<HboneConnectionEvents> {
  readonly session: ClientHttp2Session;
  readonly peerIdentity: string;
  #active = 0;
  #state: ClientConnectionState = 'open';

  constructor(session: ClientHttp2Session, peerIdentity: string) {
    super();
    this.session = session;
    this.peerIdentity = peerIdentity;
    session.on('error', ignore);
    session.once('goaway', () => this.#markDraining());
    session.once('close', () => {
      const wasUsable = this.#state === 'open';
      this.#state = 'closed';
      if (wasUsable) this.emit('unusable');
      this.emit('close');
    });
  }

  get state(): ClientConnectionState {
    return this.#state;
  }

  get activeStreams(): number {
    return this.#active;
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited when it sent none). */
  get peerMaxStreams(): number {
    return this.session.remoteSettings.maxConcurrentStreams ?? 2 ** 32 - 1;
  }

  #markDraining(): void {
    if (this.#state !== 'open') return;
    this.#state = 'draining';
    this.emit('unusable');
  }

  /** Open one CONNECT stream; resolves on 200, rejects with a typed error otherwise. */
  openTunnel(options: OpenTunnelOptions): Promise<HboneTunnel> {
    const { authority, signal } = options;
    if (this.#state !== 'open' || this.session.destroyed || this.session.closed) {
      return Promise.reject(new HboneError('CONNECTION_CLOSED', 'the HBONE connection is closed or draining'));
    }
    if (signal?.aborted) return Promise.reject(new HboneError('ABORTED', `the CONNECT to ${authority} was aborted`));
    let stream: TunnelStream;
    try {
      stream = this.session.request(
        { ...options.headers, ':method': 'CONNECT', ':authority': authority },
        { endStream: false },
      ) as TunnelStream;
    } catch (error) {
      this.#markDraining();
      return Promise.reject(streamError(error, undefined, authority));
    }
    this.#active++;
    // Shared listeners and one small state record per stream: an idle tunnel holds no closures.
    stream[kConnection] = this;
    stream.on('error', pendingError);
    stream.on('close', tunnelClose);
    stream.on('response', pendingResponse);
    return new Promise<HboneTunnel>((resolve, reject) => {
      const pending: Pending = { connection: this, authority, resolve, reject, lastError: undefined };
      stream[kPending] = pending;
      if (signal) {
        pending.signal = signal;
        pending.onAbort = () => {
          if (!settle(stream)) return;
          sendRstStream(stream, h2.NGHTTP2_CANCEL);
          reject(new HboneError('ABORTED', `the CONNECT to ${authority} was aborted`, { cause: signal.reason }));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
    });
  }

  /** @internal Called once per stream of this connection when it closes. */
  streamClosed(): void {
    this.#active--;
    this.emit('streamClosed');
  }

  /** Stop new streams; GOAWAY; the connection closes when its streams are done. */
  close(): void {
    this.#markDraining();
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  destroy(): void {
    this.#markDraining();
    this.session.destroy();
  }
}
