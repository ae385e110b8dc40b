// One inbound CONNECT stream, as the application callback sees it: parsed authority, peer identity,
// headers and addresses, and exactly one answer — accept (200, then bytes) or refuse (HEADERS-only).
import { constants as h2, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { SocketAddress } from '@ambient-ts/addresses';
import type { HboneAuthority } from './authority.ts';
import { HboneError } from './errors.ts';
import { sendRstStream } from './h2-reset.ts';

export type ConnectRequestState = 'pending' | 'accepted' | 'refused' | 'gone';

export interface ConnectRequest {
  readonly authority: HboneAuthority;
  /** `:authority` exactly as received. */
  readonly rawAuthority: string;
  /** The client's SPIFFE ID (verified during the TLS handshake). */
  readonly peerIdentity: string;
  /** Regular request headers (no pseudo headers), lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Where the TLS connection arrived (the workload address this proxy serves). */
  readonly local: SocketAddress;
  /** The client's TCP address. */
  readonly remote: SocketAddress;
  readonly state: ConnectRequestState;
  /** Aborted when the client resets the stream or its connection goes away. */
  readonly signal: AbortSignal;
  /** Answer 200 (with e.g. a `baggage` header) and get the tunnel; bytes flow both ways from here. */
  accept(responseHeaders?: Readonly<Record<string, string>>): AcceptedTunnel;
  /** Answer a non-200 status as HEADERS with END_STREAM (400 bad request, 401 denied, 503 no backend...). */
  refuse(status: number): void;
}

export interface AcceptedTunnel {
  readonly request: ConnectRequest;
  /** The tunnel's bytes: backpressured; `end()` sends END_STREAM, 'end' means the client half-closed. */
  readonly stream: Duplex;
  /**
   * Close from outside (e.g. a policy change now denies it): `reset` (default) sends RST_STREAM
   * CONNECT_ERROR, which the client sees as an error; `cancel` sends RST_STREAM CANCEL (read as EOF).
   */
  close(mode?: 'reset' | 'cancel'): void;
  /** Resolves when the stream is fully closed. */
  readonly closed: Promise<void>;
}

/** Where a request came from: shared by every request of one connection. */
export interface RequestOrigin {
  readonly peerIdentity: string;
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
}

/** Server-wide callbacks, one object for all requests (no per-request closures). */
export interface RequestHooks<O extends RequestOrigin> {
  accepted(tunnel: ServerConnectRequest<O>): void;
  refused(status: number): void;
  closed(tunnel: ServerConnectRequest<O>): void;
}

/** Answer a stream with a HEADERS-only status (used before and instead of the callback). */
export function respondStatus(stream: ServerHttp2Stream, status: number): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  try {
    stream.respond({ ':status': status }, { endStream: true, sendDate: false } as { endStream: boolean });
  } catch {
    // The client reset the stream between our check and the write.
  }
}

function regularHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(headers)) if (!name.startsWith(':')) out[name] = headers[name];
  return out;
}

const ignore = (): void => {};
// HBONE answers carry no Date header (ztunnel sends none); one options object for every accept.
const acceptOptions = { endStream: false, sendDate: false } as { endStream: boolean };
const kRequest = Symbol('hbone.request');
type RequestStream = ServerHttp2Stream & { [kRequest]?: ServerConnectRequest };

/** One CONNECT stream; once accepted the same object is the AcceptedTunnel. */
export class ServerConnectRequest<O extends RequestOrigin = RequestOrigin> implements ConnectRequest, AcceptedTunnel {
  readonly authority: HboneAuthority;
  readonly rawAuthority: string;
  readonly origin: O;
  readonly stream: ServerHttp2Stream;
  readonly #rawHeaders: IncomingHttpHeaders;
  readonly #hooks: RequestHooks<O>;
  #headers: Record<string, string | string[] | undefined> | undefined;
  #state: ConnectRequestState = 'pending';
  #abort: AbortController | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    authority: HboneAuthority,
    origin: O,
    hooks: RequestHooks<O>,
  ) {
    this.stream = stream;
    this.#rawHeaders = headers;
    this.authority = authority;
    this.rawAuthority = headers[':authority'] ?? '';
    this.origin = origin;
    this.#hooks = hooks;
    (stream as RequestStream)[kRequest] = this as ServerConnectRequest;
    stream.on('close', ServerConnectRequest.#closeListener);
  }

  // One shared listener for every stream (called with the stream as `this`): no closure per request.
  static readonly #closeListener = function (this: RequestStream): void {
    const request = this[kRequest];
    if (request) request.#onClose();
  };

  get peerIdentity(): string {
    return this.origin.peerIdentity;
  }

  get local(): SocketAddress {
    return this.origin.local;
  }

  get remote(): SocketAddress {
    return this.origin.remote;
  }

  get request(): ConnectRequest {
    return this;
  }

  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    this.#headers ??= regularHeaders(this.#rawHeaders);
    return this.#headers;
  }

  get state(): ConnectRequestState {
    return this.#state;
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.stream.closed || this.stream.destroyed) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  get closed(): Promise<void> {
    this.#closed ??= this.stream.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => this.stream.once('close', () => resolve()));
    return this.#closed;
  }

  #onClose(): void {
    if (this.#state === 'pending') this.#state = 'gone';
    else if (this.#state === 'accepted') this.#hooks.closed(this);
    this.#abort?.abort(new HboneError('ABORTED', 'the client closed the CONNECT stream'));
  }

  #answer(): void {
    if (this.#state === 'pending') return;
    throw new HboneError(
      this.#state === 'gone' ? 'ABORTED' : 'INVALID_OPTIONS',
      this.#state === 'gone'
        ? 'the client went away before the CONNECT was answered'
        : `the CONNECT was already answered (${this.#state}); answer each request once`,
    );
  }

  accept(responseHeaders?: Readonly<Record<string, string>>): AcceptedTunnel {
    this.#answer();
    try {
      this.stream.respond(responseHeaders ? { ...responseHeaders, ':status': 200 } : { ':status': 200 }, acceptOptions);
    } catch (error) {
      this.#state = 'gone';
      throw new HboneError('ABORTED', 'the client went away before the CONNECT was answered', { cause: error });
    }
    this.#state = 'accepted';
    this.#hooks.accepted(this);
    return this;
  }

  close(mode: 'reset' | 'cancel' = 'reset'): void {
    sendRstStream(this.stream, mode === 'cancel' ? h2.NGHTTP2_CANCEL : h2.NGHTTP2_CONNECT_ERROR);
  }

  refuse(status: number): void {
    if (!Number.isInteger(status) || status < 300 || status > 599) {
      throw new HboneError('INVALID_OPTIONS', `refuse(status): status must be 300-599, got ${status}`);
    }
    this.#answer();
    this.#state = 'refused';
    respondStatus(this.stream, status);
    this.#hooks.refused(status);
  }
}

export { ignore as ignoreError };
