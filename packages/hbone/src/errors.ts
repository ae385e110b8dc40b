// Every failure this package reports, with a stable code. Messages say what was wrong and what to do.

export type HboneErrorCode =
  // Caller input
  | 'INVALID_OPTIONS'
  | 'INVALID_AUTHORITY'
  | 'INVALID_HEADER'
  | 'PROXY_V2_INVALID'
  // Dialing a peer (client side)
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_FAILED'
  | 'TLS_HANDSHAKE_FAILED'
  | 'ALPN_NOT_H2'
  | 'PEER_IDENTITY_MISMATCH'
  | 'PEER_CERTIFICATE_INVALID'
  | 'H2_HANDSHAKE_FAILED'
  | 'KEEPALIVE_TIMEOUT'
  // One CONNECT stream
  | 'TUNNEL_REFUSED'
  | 'TUNNEL_RESET'
  | 'CONNECTION_CLOSED'
  | 'ABORTED'
  // Lifecycle
  | 'POOL_CLOSED'
  | 'SERVER_CLOSED'
  // Server side (reported through the server's `connectionError` event)
  | 'CREDENTIALS_UNAVAILABLE'
  | 'HANDSHAKE_TIMEOUT'
  | 'TRUST_DOMAIN_MISMATCH';

const marker = Symbol.for('@ambient-ts/hbone/HboneError');

export interface HboneErrorDetails {
  /** HTTP status of a refused CONNECT (`TUNNEL_REFUSED`). */
  status?: number;
  /** HTTP/2 error code of a RST_STREAM or GOAWAY (`TUNNEL_RESET`, `CONNECTION_CLOSED`). */
  h2Code?: number;
  cause?: unknown;
}

export class HboneError extends Error {
  readonly code: HboneErrorCode;
  readonly status: number | undefined;
  readonly h2Code: number | undefined;
  readonly [marker] = true;

  constructor(code: HboneErrorCode, message: string, details: HboneErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HboneError';
    this.code = code;
    this.status = details.status;
    this.h2Code = details.h2Code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isHboneError(value: unknown): value is HboneError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
