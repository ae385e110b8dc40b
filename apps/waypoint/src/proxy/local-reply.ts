// Responses the waypoint generates itself (Envoy "local replies"): denials, 404 no route, redirects,
// 5xx for upstream trouble. Bodies follow Envoy's texts so clients and tests see familiar answers.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { HeaderMap } from '@ambient-ts/routes';
import { headerBytes } from './headers.ts';

export type DownstreamResponse = ServerResponse | Http2ServerResponse;

/** Write a complete local reply; returns the approximate wire bytes sent (0 if the client is gone). */
export function sendLocalReply(res: DownstreamResponse, status: number, body: string, headers: HeaderMap = {}): number {
  if (res.headersSent || res.destroyed || res.writableEnded) return 0;
  const out: HeaderMap = { ...headers };
  if (body !== '') out['content-type'] ??= 'text/plain';
  out['content-length'] = String(Buffer.byteLength(body));
  try {
    (res as ServerResponse).writeHead(status, out as Record<string, string | string[]>);
    res.end(body);
  } catch {
    return 0;
  }
  return headerBytes(out, `HTTP/1.1 ${status}`) + Buffer.byteLength(body);
}
