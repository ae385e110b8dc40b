// Header hygiene between downstream and upstream HTTP: hop-by-hop headers never cross the proxy (RFC 9110
// §7.6.1, plus those named in Connection), pseudo headers become Host, `x-request-id` is generated when
// absent, `x-forwarded-proto` is set when absent; client `x-forwarded-for` / `forwarded` pass through
// unchanged (the waypoint is not the edge: Envoy's use_remote_address=false).
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMap } from '@ambient-ts/routes';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

const none = new Set<string>();

function connectionTokens(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return none;
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Request headers to send upstream (lower-case, no pseudo or hop-by-hop headers, Host from :authority). */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders): HeaderMap {
  const named = connectionTokens(incoming['connection']);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(':') || hopByHop.has(name) || named.has(name) || value === undefined) continue;
    out[name] = value;
  }
  const authority = incoming[':authority'];
  if (out['host'] === undefined && typeof authority === 'string') out['host'] = authority;
  if (out['x-request-id'] === undefined || out['x-request-id'] === '') out['x-request-id'] = randomUUID();
  out['x-forwarded-proto'] ??= 'http';
  return out;
}

/** Response headers to send downstream (also valid for HTTP/2, which forbids connection-specific ones). */
export function downstreamResponseHeaders(incoming: IncomingHttpHeaders): HeaderMap {
  const named = connectionTokens(incoming['connection']);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(':') || hopByHop.has(name) || named.has(name) || value === undefined) continue;
    out[name] = value;
  }
  return out;
}

export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** Approximate wire size of a header block (name: value CRLF), for istio_request_bytes / response_bytes. */
export function headerBytes(headers: HeaderMap | OutgoingHttpHeaders, firstLine: string): number {
  let total = firstLine.length + 4;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    for (const one of values) total += name.length + String(one).length + 4;
  }
  return total;
}
