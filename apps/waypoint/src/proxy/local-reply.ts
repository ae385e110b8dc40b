// Responses the waypoint generates itself (Envoy "local replies"): denials, 404 no route, redirects,
// 5xx for upstream trouble. Bodies follow Envoy's texts so clients and tests see familiar answers.
// A gRPC request (`content-type: application/grpc*`) gets what Envoy sends instead: HTTP 200, trailers
// only, `grpc-status` mapped from the HTTP status (Envoy's httpToGrpcStatus) and the text as `grpc-message`.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { HeaderMap } from '@ambient-ts/routes';
import { headerBytes, headerText } from './headers.ts';

export type DownstreamResponse = ServerResponse | Http2ServerResponse;

/** Envoy's HTTP → gRPC status mapping for local replies (source/common/http/utility.cc httpToGrpcStatus). */
export function grpcStatusOf(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

export function isGrpcRequest(req: IncomingMessage | Http2ServerRequest | undefined): boolean {
  return headerText(req?.headers['content-type'])?.startsWith('application/grpc') ?? false;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): printable ASCII except '%' stays as is. */
function grpcMessage(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (byte) =>
    byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}

function sendGrpcLocalReply(res: DownstreamResponse, status: number, body: string, headers: HeaderMap): number {
  const out: HeaderMap = {
    ...headers,
    'content-type': 'application/grpc',
    'grpc-status': String(grpcStatusOf(status)),
  };
  if (body !== '') out['grpc-message'] = grpcMessage(body);
  delete out['content-length'];
  delete out['location'];
  if ('stream' in res) {
    // HTTP/2: one HEADERS frame with END_STREAM (a "trailers-only" response, which gRPC clients need).
    res.stream.respond({ ...(out as OutgoingHttpHeaders), ':status': 200 }, { endStream: true });
  } else {
    out['content-length'] = '0';
    res.writeHead(200, out as Record<string, string | string[]>);
    res.end();
  }
  return headerBytes(out, 'HTTP/1.1 200');
}

/** Write a complete local reply; returns the approximate wire bytes sent (0 if the client is gone). */
export function sendLocalReply(res: DownstreamResponse, status: number, body: string, headers: HeaderMap = {}): number {
  if (res.headersSent || res.destroyed || res.writableEnded) return 0;
  try {
    if (isGrpcRequest(res.req)) return sendGrpcLocalReply(res, status, body, headers);
  } catch {
    return 0;
  }
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
