// HTTP/1.1 Upgrade (WebSocket) through the waypoint. The upgrade request goes through the same stages as
// any request (normalise → authenticate → authorise → route → pick); local replies (403, 401, 404, 503…)
// are written as normal responses on the downstream connection, which then closes. When forwarded, the
// request keeps `Upgrade` / `Connection: upgrade` (and the Sec-WebSocket-* headers, which are end-to-end);
// a 101 from the endpoint is relayed and the two connections are spliced as a raw bidirectional byte
// stream (half-close passed on, an error or reset on either side tears down both); any other answer is
// relayed as a normal response. The request is reported once, when the spliced stream is over, with the
// upgraded bytes counted in istio_request_bytes / istio_response_bytes, as Envoy does.
import { randomBytes } from 'node:crypto';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { applyHeaderModifier, type HeaderMap, type HeaderModifier } from '@ambient-ts/routes';
import { downstreamResponseHeaders, headerBytes, headerText } from './headers.ts';

/** Upgrade types the waypoint passes through (Istio configures `websocket` on its HTTP connection manager). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = headerText(req.headers['upgrade']);
  if (upgrade === undefined) return false;
  return upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket');
}

/** The request headers of an upgrade as sent upstream: the hygiene-filtered set plus the upgrade itself. */
export function upgradeRequestHeaders(headers: HeaderMap, req: IncomingMessage | Http2ServerRequest): HeaderMap {
  const out: HeaderMap = {
    ...headers,
    connection: 'upgrade',
    upgrade: headerText(req.headers['upgrade']) ?? 'websocket',
  };
  // RFC 8441 has no key; the HTTP/1.1 leg needs one (the endpoint's accept is not passed to HTTP/2).
  out['sec-websocket-key'] ??= randomBytes(16).toString('base64');
  out['sec-websocket-version'] ??= '13';
  return out;
}

/** RFC 8441: the endpoint's 101 as a 200 on the HTTP/2 stream; the wire size of the header block. */
export function write200(
  res: Http2ServerResponse,
  upstream: IncomingMessage,
  modifiers: readonly HeaderModifier[],
): number {
  const headers = downstreamResponseHeaders(upstream.headers);
  delete headers['sec-websocket-accept'];
  for (const modifier of modifiers) applyHeaderModifier(headers, modifier);
  res.writeHead(200, headers as Record<string, string | string[]>);
  return headerBytes(headers, 'HTTP/2 200');
}

/**
 * A ServerResponse on the upgrade request's connection, so local replies and relayed non-101 answers are
 * written as for any request; the connection ends after such a response (`connection: close`).
 */
export function upgradeResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as never);
  res.once('finish', () => {
    res.detachSocket(socket as never);
    socket.end();
  });
  return res;
}

/**
 * Write the endpoint's 101 on the downstream connection (response header modifiers applied, `Upgrade`
 * and `Connection` kept); the wire size of the header block.
 */
export function write101(
  res: ServerResponse,
  socket: Duplex,
  upstream: IncomingMessage,
  modifiers: readonly HeaderModifier[],
): number {
  res.detachSocket(socket as never);
  const headers = downstreamResponseHeaders(upstream.headers);
  for (const modifier of modifiers) applyHeaderModifier(headers, modifier);
  headers['upgrade'] = headerText(upstream.headers['upgrade']) ?? 'websocket';
  headers['connection'] = 'upgrade';
  const first = `HTTP/1.1 101 ${upstream.statusMessage || 'Switching Protocols'}`;
  let text = `${first}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
  }
  socket.write(Buffer.from(`${text}\r\n`, 'latin1'));
  return headerBytes(headers, first);
}

export interface SpliceResult {
  /** Bytes from the client to the endpoint (after the upgrade). */
  readonly sent: number;
  /** Bytes from the endpoint to the client (after the upgrade). */
  readonly received: number;
  /** Set when the stream ended by an error or reset rather than both sides closing. */
  readonly error?: string;
}

/**
 * Splice two byte streams: each direction is piped with backpressure and its end passed on as a
 * half-close; an error, or one side closing before its end was read, destroys both. Resolves once both
 * are closed. `downstreamHead` / `upstreamHead` are bytes read past the header blocks.
 */
export function splice(
  downstream: Duplex,
  upstream: Duplex,
  downstreamHead: Buffer,
  upstreamHead: Buffer,
): Promise<SpliceResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    let error: string | undefined;
    let open = 2;
    const fail = (reason: string): void => {
      error ??= reason;
      downstream.destroy();
      upstream.destroy();
    };
    const closed = (): void => {
      if (--open > 0) return;
      resolve({ sent, received, ...(error !== undefined ? { error } : {}) });
    };
    const side = (from: Duplex, to: Duplex, name: string, count: (n: number) => void): void => {
      from.on('data', (chunk: Buffer) => count(chunk.length));
      from.on('error', (e: Error) => fail(`${name}: ${e.message}`));
      from.once('close', () => {
        if (!from.readableEnded) fail(`${name} reset`);
        else if (!to.writableFinished && !to.writableEnded) to.end();
        closed();
      });
      from.pipe(to);
    };
    if (upstreamHead.length > 0) {
      received += upstreamHead.length;
      downstream.write(upstreamHead);
    }
    if (downstreamHead.length > 0) {
      sent += downstreamHead.length;
      upstream.write(downstreamHead);
    }
    side(downstream, upstream, 'downstream', (n) => (sent += n));
    side(upstream, downstream, 'upstream', (n) => (received += n));
    downstream.resume();
    upstream.resume();
  });
}
