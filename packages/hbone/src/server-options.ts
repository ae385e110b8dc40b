// The server's options, state, statistics and events, and their validation.
import type { SocketAddress } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';
import type { CredentialSource } from './server-accept.ts';
import type { ConnectRequest } from './server-request.ts';
import { checkInteger } from './settings.ts';
import type { Http2Tuning, KeepaliveOptions } from './settings.ts';

export interface HboneServerOptions {
  /** Certificate for a connection, chosen by the local address it arrived on (clients send no SNI). */
  credentials: CredentialSource;
  /** Called once per valid CONNECT; must `accept()` or `refuse()` it (a throw or rejection answers 503). */
  onConnect: (request: ConnectRequest) => void | Promise<void>;
  /** Also allow TLS 1.2 (ztunnel's TLS12_ENABLED). Default false: TLS 1.3 only. */
  tls12?: boolean;
  http2?: Http2Tuning & { maxConcurrentStreams?: number };
  keepalive?: KeepaliveOptions;
  /** Accept → verified TLS, including the credential lookup. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Verified TLS → first CONNECT headers. Default 10 s. */
  headerTimeoutMs?: number;
  /** Bytes one connection may leave unread in its tunnels before the biggest are reset. Default 32 MiB. */
  maxBufferedPerConnection?: number;
  /** Refuse TCP connections beyond this many (node:net maxConnections). Default unlimited. */
  maxConnections?: number;
}

export type HboneServerState = 'idle' | 'listening' | 'draining' | 'closed';

export interface HboneServerStats {
  connections: number;
  handshaking: number;
  tunnels: number;
  accepted: number;
  refused: number;
  rejectedConnections: number;
  bufferResets: number;
}

export interface HboneServerEvents {
  /** A connection was turned away before HTTP/2 (TLS failure, wrong trust domain, timeout...). */
  connectionError: [error: HboneError, remote: SocketAddress];
}

/** Throws INVALID_OPTIONS naming the first bad field (tuning and keepalive are checked by settings.ts). */
export function checkServerOptions(options: HboneServerOptions): void {
  if (typeof options?.credentials !== 'function' || typeof options.onConnect !== 'function') {
    throw new HboneError('INVALID_OPTIONS', 'createHboneServer needs credentials(local) and onConnect(request)');
  }
  checkInteger(options.http2?.maxConcurrentStreams, 'http2.maxConcurrentStreams', 1, 2 ** 31 - 1);
  checkInteger(options.handshakeTimeoutMs, 'handshakeTimeoutMs', 1, 2 ** 31 - 1);
  checkInteger(options.headerTimeoutMs, 'headerTimeoutMs', 1, 2 ** 31 - 1);
  checkInteger(options.maxBufferedPerConnection, 'maxBufferedPerConnection', 65_536, 2 ** 40);
  checkInteger(options.maxConnections, 'maxConnections', 1, 2 ** 31 - 1);
}
