// The plain attribute objects the evaluators take, and their one-time preparation per decision.
import { tryParseIstioIdentity } from '@ambient-ts/spiffe';
import { parseConnectionIp, type IpAddress } from '@ambient-ts/addresses';
import { normalizePath, type PathNormalization } from './path.ts';

/** What ztunnel knows about an inbound connection when it authorizes it. */
export interface L4Connection {
  readonly sourceIp: string;
  /** Peer SPIFFE ID from mTLS; undefined for plaintext (then no identity condition can match). */
  readonly sourceIdentity?: string;
  readonly destinationIp: string;
  /** The resolved container (target) port, not the service port and not 15008. */
  readonly destinationPort: number;
}

/** What the JWT filter learned; see `authenticateRequest` (its `auth` field has this shape). */
export interface RequestAuth {
  /** `<iss>/<sub>`. */
  readonly principal?: string;
  readonly audiences?: readonly string[];
  /** `azp`. */
  readonly presenter?: string;
  /** Verified claims; `scope`, `permission` and configured space-delimited claims already split. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export type HeaderValue = string | readonly string[] | Uint8Array | undefined;

/** What the waypoint knows about a request (or, with protocol 'tcp', a connection). */
export interface RequestAttributes {
  /** 'tcp' = no HTTP attributes exist (ALLOW rules using them never match; DENY ignores them). */
  readonly protocol?: 'http' | 'tcp';
  readonly method?: string;
  /** `:authority` / Host. */
  readonly host?: string;
  /** The raw `:path` (query included; it is removed and the path normalized before matching). */
  readonly path?: string;
  /** Request headers by name (any case). Multiple values are joined with "," as Envoy does. */
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  readonly sourceIp?: string;
  /** Peer SPIFFE ID (for a waypoint: the client identity carried by the HBONE tunnel). */
  readonly sourceIdentity?: string;
  /** Client IP from X-Forwarded-For / PROXY protocol. */
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  readonly destinationPort?: number;
  /** TLS SNI of the inner connection. */
  readonly sni?: string;
  readonly auth?: RequestAuth;
}

/** An attribute value, or a marker that it exists but cannot be evaluated (fail closed). */
export type Attr<T> =
  { readonly ok: true; readonly value: T | undefined } | { readonly ok: false; readonly reason: string };

export interface PeerIdentity {
  /** The identity without `spiffe://`, as ztunnel and istiod compare principals. */
  readonly principal: string;
  readonly trustDomain?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

export interface Prepared {
  readonly protocol: 'http' | 'tcp';
  readonly peer: Attr<PeerIdentity>;
  readonly sourceIp: Attr<IpAddress>;
  readonly remoteIp: Attr<IpAddress>;
  readonly destinationIp: Attr<IpAddress>;
  readonly destinationPort: Attr<number>;
  readonly sni: string | undefined;
  readonly method: Attr<string>;
  readonly host: Attr<string>;
  readonly path: Attr<string>;
  readonly header: (name: string) => Attr<string>;
  readonly auth: RequestAuth | undefined;
  /** JWT issuer and subject (from the claims, else the principal split at the last "/"). */
  readonly requestPrincipal: { readonly issuer: string; readonly subject: string } | undefined;
}

const absent = { ok: true, value: undefined } as const;
const methodToken = /^[!#$%&'*+\-.^_`|~0-9A-Z]+$/;
const badHeaderChars = /[\0\r\n]/;

function ip(text: string | undefined, what: string): Attr<IpAddress> {
  if (text === undefined) return absent;
  const value = parseConnectionIp(text);
  return value ? { ok: true, value } : { ok: false, reason: `${what} ${JSON.stringify(text)} is not an IP address` };
}

function peer(identity: string | undefined): Attr<PeerIdentity> {
  if (identity === undefined || identity === '') return absent;
  if (!identity.startsWith('spiffe://')) {
    return { ok: false, reason: `source identity ${JSON.stringify(identity)} is not a SPIFFE ID` };
  }
  const parsed = tryParseIstioIdentity(identity, { lenient: true });
  return { ok: true, value: { principal: identity.slice('spiffe://'.length), ...parsed } };
}

function port(value: number | undefined): Attr<number> {
  if (value === undefined) return absent;
  if (Number.isInteger(value) && value >= 0 && value <= 65535) return { ok: true, value };
  return { ok: false, reason: `destination port ${value} is not 0-65535` };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function headerValue(value: HeaderValue): Attr<string> {
  if (value === undefined) return absent;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) {
    try {
      text = utf8.decode(value);
    } catch {
      return { ok: false, reason: 'header value is not valid UTF-8' };
    }
  } else text = (value as readonly string[]).join(',');
  if (badHeaderChars.test(text)) return { ok: false, reason: 'header value contains NUL, CR or LF' };
  return { ok: true, value: text };
}

function prepareHeaders(headers: RequestAttributes['headers']): (name: string) => Attr<string> {
  if (!headers) return () => absent;
  let byName: Map<string, HeaderValue[]> | undefined;
  const cache = new Map<string, Attr<string>>();
  return (name) => {
    const cached = cache.get(name);
    if (cached) return cached;
    if (!byName) {
      // Built on first use: most requests are decided without looking at headers.
      byName = new Map();
      for (const [key, value] of Object.entries(headers)) {
        const lower = key.toLowerCase();
        const list = byName.get(lower);
        if (list) list.push(value);
        else byName.set(lower, [value]);
      }
    }
    const values = byName.get(name);
    let result: Attr<string> = absent;
    if (values && values.length === 1) result = headerValue(values[0]);
    else if (values) {
      const parts: string[] = [];
      for (const value of values) {
        const one = headerValue(value);
        if (!one.ok) {
          result = one;
          break;
        }
        if (one.value !== undefined) parts.push(one.value);
      }
      if (result.ok) result = { ok: true, value: parts.join(',') };
    }
    cache.set(name, result);
    return result;
  };
}

export function prepareConnection(connection: L4Connection): Prepared {
  return {
    protocol: 'tcp',
    peer: peer(connection.sourceIdentity),
    sourceIp: ip(connection.sourceIp, 'source IP'),
    remoteIp: absent,
    destinationIp: ip(connection.destinationIp, 'destination IP'),
    destinationPort: port(connection.destinationPort),
    sni: undefined,
    method: absent,
    host: absent,
    path: absent,
    header: () => absent,
    auth: undefined,
    requestPrincipal: undefined,
  };
}

function requestPrincipalOf(auth: RequestAuth | undefined): Prepared['requestPrincipal'] {
  if (!auth) return undefined;
  const issuer = auth.claims?.['iss'];
  const subject = auth.claims?.['sub'];
  if (typeof issuer === 'string' && typeof subject === 'string') return { issuer, subject };
  if (auth.principal === undefined) return undefined;
  const slash = auth.principal.lastIndexOf('/');
  return slash === -1
    ? undefined
    : { issuer: auth.principal.slice(0, slash), subject: auth.principal.slice(slash + 1) };
}

export function prepareRequest(request: RequestAttributes, pathNormalization: PathNormalization = 'BASE'): Prepared {
  const http = request.protocol !== 'tcp';
  let method: Attr<string> = absent;
  if (http && request.method !== undefined) {
    // Canonical comparison (GHSA-w44g-8m76-8gc5): methods compare upper-cased; non-tokens cannot be judged.
    const upper = request.method.toUpperCase();
    method = methodToken.test(upper)
      ? { ok: true, value: upper }
      : { ok: false, reason: 'method is not an HTTP token' };
  }
  let host: Attr<string> = absent;
  if (http && request.host !== undefined) {
    host = /^[\x21-\x7e]+$/.test(request.host)
      ? { ok: true, value: request.host.toLowerCase() }
      : { ok: false, reason: 'host contains control, space or non-ASCII characters' };
  }
  let path: Attr<string> = absent;
  if (http && request.path !== undefined) {
    const normalized = normalizePath(request.path, pathNormalization);
    path = normalized.ok ? { ok: true, value: normalized.path } : { ok: false, reason: normalized.reason };
  }
  return {
    protocol: http ? 'http' : 'tcp',
    peer: peer(request.sourceIdentity),
    sourceIp: ip(request.sourceIp, 'source IP'),
    remoteIp: ip(request.remoteIp ?? request.sourceIp, 'remote IP'),
    destinationIp: ip(request.destinationIp, 'destination IP'),
    destinationPort: port(request.destinationPort),
    sni: request.sni,
    method,
    host,
    path,
    header: http ? prepareHeaders(request.headers) : () => absent,
    auth: http ? request.auth : undefined,
    requestPrincipal: http ? requestPrincipalOf(request.auth) : undefined,
  };
}
