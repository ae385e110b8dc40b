// Forwarding one request to an upstream endpoint over a pooled tunnel (HTTP/1.1 keep-alive on HBONE),
// streaming both bodies with backpressure. Like Istio's default route it retries connection failures
// (and resets on a reused keep-alive connection before any body was sent) up to twice, on other hosts.
// Failures map to Envoy's answers: 503 UH (no healthy upstream), 503 UF (connect failure), 503 UC
// (reset before headers), 502 UPE (invalid response), 504 UT (route or per-try timeout), DC (client left).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as h2, type ClientHttp2Stream, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { applyHeaderModifier, type HeaderMap, type HeaderModifier } from '@ambient-ts/routes';
import type { UpstreamAgent, UpstreamRequestOptions } from '../upstream/connector.ts';
import { targetAuthority, type EndpointPick, type UpstreamTarget } from '../upstream/endpoints.ts';
import { UpstreamProtocolError, type UpstreamH2Sessions } from '../upstream/h2-sessions.ts';
import { downstreamResponseHeaders, headerBytes, headerText } from './headers.ts';
import { sendLocalReply, type DownstreamResponse } from './local-reply.ts';

export interface ForwardInput {
  readonly downstream: IncomingMessage | Http2ServerRequest;
  readonly response: DownstreamResponse;
  readonly method: string;
  /** Path and query as sent upstream. */
  readonly path: string;
  readonly headers: HeaderMap;
  readonly pick: (exclude: ReadonlySet<string>) => EndpointPick;
  readonly responseModifiers: readonly HeaderModifier[];
  readonly requestTimeoutMs?: number;
  readonly backendRequestTimeoutMs?: number;
  /** Sends `connection: close` downstream (drain). */
  readonly closeAfter?: boolean;
  /** HTTP/2 to the upstream (over `h2`'s pooled sessions) instead of HTTP/1.1 over the agent. */
  readonly upstreamProtocol?: 'http1' | 'h2';
  readonly h2?: UpstreamH2Sessions;
  /**
   * An upgrade request (proxy/upgrade.ts): called with the endpoint's 101, its connection and the bytes
   * read past its header block; returns the header bytes written downstream. Timeouts end with the 101.
   */
  readonly onUpgrade?: (response: IncomingMessage, socket: Duplex, head: Buffer) => number;
}

export interface ForwardResult {
  readonly status: number;
  readonly flags: string;
  readonly details: string;
  readonly upstream?: UpstreamTarget;
  readonly responseBytes: number;
  readonly upstreamServiceTimeMs?: number;
  readonly attempts: number;
  /** Request body bytes read from the client. */
  readonly requestBodyBytes: number;
  /** Why the waypoint answered itself (for the access log). */
  readonly reason?: string;
  /** grpc-status from the upstream's trailers or trailers-only answer (HTTP/2 upstreams). */
  readonly grpcStatus?: string;
}

type AttemptResult = Omit<ForwardResult, 'attempts' | 'requestBodyBytes'>;
type Attempt =
  | { readonly kind: 'done'; readonly result: AttemptResult }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'cancelled'; readonly upstream: UpstreamTarget };

const MAX_ATTEMPTS = 3;

interface BodyState {
  /** Set once the body has been piped to some attempt (a later retry would lose it). */
  piped: boolean;
  bodyStarted: boolean;
  bytes: number;
}

/** Why the request stops early (client gone, or a timeout); the running attempt listens for it. */
class Cancellation {
  reason: 'client' | 'timeout' | undefined;
  #listener: (() => void) | undefined;

  cancel(reason: 'client' | 'timeout'): void {
    if (this.reason) return;
    this.reason = reason;
    this.#listener?.();
  }

  listen(listener: (() => void) | undefined): void {
    this.#listener = listener;
    if (listener && this.reason) listener();
  }
}

function failure(error: Error): { status: number; flags: string; body: string; details: string } {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('HPE_')) {
    return {
      status: 502,
      flags: 'UPE',
      body: 'upstream sent an invalid HTTP response',
      details: 'upstream_reset_before_response_started{protocol_error}',
    };
  }
  return {
    status: 503,
    flags: 'UC',
    body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    details: 'upstream_reset_before_response_started{connection_termination}',
  };
}

function attempt(
  agent: UpstreamAgent,
  input: ForwardInput,
  target: UpstreamTarget,
  cancellation: Cancellation,
  state: BodyState,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    let perTry: NodeJS.Timeout | undefined;
    const done = (value: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(perTry);
      cancellation.listen(undefined);
      resolve(value);
    };
    const options: UpstreamRequestOptions = {
      host: target.ip,
      port: target.port,
      method: input.method,
      path: input.path,
      headers: input.headers as Record<string, string | string[]>,
      agent,
      upstream: target,
    };
    const started = performance.now();
    const upstream = httpRequest(options);
    let connected = false;
    let responding = false;
    const stop = (): void => {
      upstream.destroy();
      // Once the response streams, the pipeline callback reports; before that, report here.
      if (!responding) done({ kind: 'cancelled', upstream: target });
    };
    cancellation.listen(stop);
    if (input.backendRequestTimeoutMs !== undefined) {
      perTry = setTimeout(() => {
        cancellation.reason ??= 'timeout';
        stop();
      }, input.backendRequestTimeoutMs);
    }
    upstream.once('socket', () => {
      connected = true;
      if (!state.piped) {
        state.piped = true;
        input.downstream.on('data', (chunk: Buffer) => {
          state.bodyStarted = true;
          state.bytes += chunk.length;
        });
      }
      input.downstream.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (settled || responding) return;
      if (!connected) return done({ kind: 'retry', reason: `connect failure: ${error.message}` });
      if (upstream.reusedSocket && !state.bodyStarted)
        return done({ kind: 'retry', reason: `reset on a reused connection: ${error.message}` });
      input.downstream.unpipe(upstream);
      const mapped = failure(error);
      const responseBytes = sendLocalReply(input.response, mapped.status, mapped.body);
      done({ kind: 'done', result: { ...mapped, responseBytes, upstream: target } });
    });
    const onUpgrade = input.onUpgrade;
    if (onUpgrade) {
      upstream.once('upgrade', (upstreamResponse: IncomingMessage, socket: Duplex, head: Buffer) => {
        responding = true;
        const upstreamServiceTimeMs = performance.now() - started;
        const responseBytes = onUpgrade(upstreamResponse, socket, head);
        done({
          kind: 'done',
          result: {
            status: 101,
            flags: '-',
            details: 'via_upstream',
            responseBytes,
            upstream: target,
            upstreamServiceTimeMs,
          },
        });
      });
    }
    upstream.once('response', (upstreamResponse: IncomingMessage) => {
      responding = true;
      const upstreamServiceTimeMs = performance.now() - started;
      const headers = downstreamResponseHeaders(upstreamResponse.headers);
      for (const modifier of input.responseModifiers) applyHeaderModifier(headers, modifier);
      if (input.closeAfter && 'shouldKeepAlive' in input.response) headers['connection'] = 'close';
      const status = upstreamResponse.statusCode ?? 502;
      let bytes = headerBytes(headers, `HTTP/1.1 ${status}`);
      upstreamResponse.on('data', (chunk: Buffer) => (bytes += chunk.length));
      const finish = (flags: string, details: string): void =>
        done({
          kind: 'done',
          result: { status, flags, details, responseBytes: bytes, upstream: target, upstreamServiceTimeMs },
        });
      try {
        (input.response as ServerResponse).writeHead(status, headers as Record<string, string | string[]>);
      } catch {
        upstream.destroy();
        return finish('DC', 'downstream_remote_disconnect');
      }
      // Plain pipe(): stream.pipeline costs an AbortController (and a DOMException) per request.
      const response = input.response;
      const ended = (error: boolean): void => {
        if (!error) return finish('-', 'via_upstream');
        upstream.destroy();
        if (!response.destroyed) response.destroy();
        if (cancellation.reason === 'client') return finish('DC', 'downstream_remote_disconnect');
        if (cancellation.reason === 'timeout') return finish('UT', 'upstream_response_timeout');
        finish('UPE', 'upstream_reset_after_response_started');
      };
      response.once('finish', () => ended(false));
      response.once('close', () => {
        if (!response.writableFinished) ended(true);
      });
      upstreamResponse.once('close', () => {
        if (!upstreamResponse.complete) ended(true);
      });
      upstreamResponse.on('error', () => {});
      upstreamResponse.pipe(response as NodeJS.WritableStream);
    });
  });
}

/** Request headers as HTTP/2 sends them: pseudo headers, `host` as `:authority`, `te: trailers` for gRPC. */
function h2RequestHeaders(input: ForwardInput, target: UpstreamTarget): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(input.headers)) if (value !== undefined) out[name] = value;
  const host = out['host'];
  delete out['host'];
  out[':method'] = input.method;
  out[':path'] = input.path;
  out[':scheme'] = 'http';
  out[':authority'] = (Array.isArray(host) ? host[0] : host) ?? targetAuthority(target);
  const contentType = out['content-type'];
  if (typeof contentType === 'string' && contentType.startsWith('application/grpc')) out['te'] = 'trailers';
  return out;
}

/** Trailers the client sent with its request (HTTP/2 or chunked HTTP/1.1), without pseudo headers. */
function requestTrailers(downstream: ForwardInput['downstream']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(downstream.trailers ?? {}))
    if (!name.startsWith(':') && value !== undefined) out[name] = value;
  return out;
}

/** One try over a pooled HTTP/2 session: streams both bodies and carries trailers both ways. */
function attemptH2(
  sessions: UpstreamH2Sessions,
  input: ForwardInput,
  target: UpstreamTarget,
  cancellation: Cancellation,
  state: BodyState,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    let perTry: NodeJS.Timeout | undefined;
    let upstream: ClientHttp2Stream | undefined;
    let responding = false;
    const done = (value: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(perTry);
      cancellation.listen(undefined);
      resolve(value);
    };
    const stop = (): void => {
      upstream?.close(h2.NGHTTP2_CANCEL);
      if (!responding) done({ kind: 'cancelled', upstream: target });
    };
    cancellation.listen(stop);
    if (input.backendRequestTimeoutMs !== undefined) {
      perTry = setTimeout(() => {
        cancellation.reason ??= 'timeout';
        stop();
      }, input.backendRequestTimeoutMs);
    }
    const started = performance.now();
    const localFailure = (status: number, flags: string, body: string, details: string, reason: string): void => {
      if (upstream) input.downstream.unpipe(upstream);
      const responseBytes = sendLocalReply(input.response, status, body);
      done({ kind: 'done', result: { status, flags, details, responseBytes, upstream: target, reason } });
    };
    sessions.session(target).then(
      (session) => {
        if (settled) return;
        let stream: ClientHttp2Stream;
        try {
          stream = session.request(h2RequestHeaders(input, target), { waitForTrailers: true });
        } catch (error) {
          return done({ kind: 'retry', reason: `stream refused: ${(error as Error).message}` });
        }
        upstream = stream;
        if (!state.piped) {
          state.piped = true;
          input.downstream.on('data', (chunk: Buffer) => {
            state.bodyStarted = true;
            state.bytes += chunk.length;
          });
        }
        stream.once('wantTrailers', () => stream.sendTrailers(requestTrailers(input.downstream)));
        input.downstream.pipe(stream);
        stream.on('error', (error) => {
          if (settled || responding) return;
          if (!state.bodyStarted && stream.rstCode === h2.NGHTTP2_REFUSED_STREAM)
            return done({ kind: 'retry', reason: `refused stream: ${error.message}` });
          localFailure(
            503,
            'UC',
            'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
            'upstream_reset_before_response_started{connection_termination}',
            error.message,
          );
        });
        stream.once('close', () => {
          if (settled || responding) return;
          if (!state.bodyStarted && stream.rstCode === h2.NGHTTP2_REFUSED_STREAM)
            return done({ kind: 'retry', reason: 'refused stream' });
          localFailure(
            503,
            'UC',
            'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
            'upstream_reset_before_response_started{connection_termination}',
            `upstream stream closed before headers (code ${stream.rstCode})`,
          );
        });
        stream.once('response', (upstreamHeaders, flags) => {
          responding = true;
          const upstreamServiceTimeMs = performance.now() - started;
          const status = Number(upstreamHeaders[':status'] ?? 502);
          const headers = downstreamResponseHeaders(upstreamHeaders);
          for (const modifier of input.responseModifiers) applyHeaderModifier(headers, modifier);
          if (input.closeAfter && 'shouldKeepAlive' in input.response) headers['connection'] = 'close';
          let bytes = headerBytes(headers, `HTTP/1.1 ${status}`);
          const response = input.response;
          let grpcStatus = headerText(upstreamHeaders['grpc-status'] as string | undefined);
          const finish = (resultFlags: string, details: string): void =>
            done({
              kind: 'done',
              result: {
                ...(grpcStatus !== undefined ? { grpcStatus } : {}),
                status,
                flags: resultFlags,
                details,
                responseBytes: bytes,
                upstream: target,
                upstreamServiceTimeMs,
              },
            });
          // A trailers-only answer (gRPC errors) stays one HEADERS frame with END_STREAM downstream.
          if ((flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0 && 'stream' in response) {
            try {
              (response as Http2ServerResponse).stream.respond(
                { ':status': status, ...(headers as Record<string, string | string[]>) },
                { endStream: true },
              );
            } catch {
              return finish('DC', 'downstream_remote_disconnect');
            }
            stream.resume();
            return finish('-', 'via_upstream');
          }
          try {
            (response as ServerResponse).writeHead(status, headers as Record<string, string | string[]>);
          } catch {
            stream.close(h2.NGHTTP2_CANCEL);
            return finish('DC', 'downstream_remote_disconnect');
          }
          stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
          stream.once('trailers', (trailers) => {
            const carried = downstreamResponseHeaders(trailers);
            grpcStatus = headerText(carried['grpc-status']) ?? grpcStatus;
            bytes += headerBytes(carried, '');
            response.addTrailers(carried as Record<string, string>);
          });
          const ended = (error: boolean): void => {
            if (!error) return finish('-', 'via_upstream');
            stream.close(h2.NGHTTP2_CANCEL);
            if (!response.destroyed) response.destroy();
            if (cancellation.reason === 'client') return finish('DC', 'downstream_remote_disconnect');
            if (cancellation.reason === 'timeout') return finish('UT', 'upstream_response_timeout');
            finish('UPE', 'upstream_reset_after_response_started');
          };
          response.once('finish', () => ended(false));
          response.once('close', () => {
            if (!response.writableFinished) ended(true);
          });
          stream.once('close', () => {
            if (!stream.readableEnded && stream.rstCode !== h2.NGHTTP2_NO_ERROR) ended(true);
          });
          // Trailers are reported before the body's 'end', so they are on the response when pipe ends it.
          stream.pipe(response as NodeJS.WritableStream);
        });
      },
      (error: unknown) => {
        if (settled) return;
        if (error instanceof UpstreamProtocolError) {
          return localFailure(
            502,
            'UPE',
            'upstream sent an invalid HTTP response',
            'upstream_reset_before_response_started{protocol_error}',
            error.message,
          );
        }
        done({ kind: 'retry', reason: `connect failure: ${(error as Error).message}` });
      },
    );
  });
}

export async function forward(agent: UpstreamAgent, input: ForwardInput): Promise<ForwardResult> {
  const cancellation = new Cancellation();
  const response = input.response;
  const onClose = (): void => {
    if (!response.writableFinished) cancellation.cancel('client');
  };
  response.once('close', onClose);
  const timer =
    input.requestTimeoutMs === undefined
      ? undefined
      : setTimeout(() => cancellation.cancel('timeout'), input.requestTimeoutMs);
  const tried = new Set<string>();
  const state: BodyState = { piped: false, bodyStarted: false, bytes: 0 };
  const result = (value: Omit<ForwardResult, 'requestBodyBytes'>): ForwardResult => ({
    ...value,
    requestBodyBytes: state.bytes,
  });
  let lastReason = '';
  try {
    for (let attempts = 1; attempts <= MAX_ATTEMPTS; attempts++) {
      const pick = input.pick(tried);
      if (pick.kind === 'none') {
        if (attempts > 1) break;
        const responseBytes = sendLocalReply(response, 503, 'no healthy upstream');
        return result({
          status: 503,
          flags: 'UH',
          details: `no_healthy_upstream{${pick.reason}}`,
          responseBytes,
          attempts,
        });
      }
      tried.add(pick.target.workload.uid);
      const outcome =
        input.upstreamProtocol === 'h2' && input.h2
          ? await attemptH2(input.h2, input, pick.target, cancellation, state)
          : await attempt(agent, input, pick.target, cancellation, state);
      if (outcome.kind === 'done') return result({ ...outcome.result, attempts });
      if (outcome.kind === 'cancelled') {
        if (cancellation.reason === 'client') {
          return result({
            status: 0,
            flags: 'DC',
            details: 'downstream_remote_disconnect',
            upstream: outcome.upstream,
            responseBytes: 0,
            attempts,
          });
        }
        const responseBytes = sendLocalReply(response, 504, 'upstream request timeout');
        return result({
          status: 504,
          flags: 'UT',
          details: 'upstream_response_timeout',
          upstream: outcome.upstream,
          responseBytes,
          attempts,
        });
      }
      lastReason = outcome.reason;
      if (cancellation.reason) break;
    }
    const body = `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${lastReason}`;
    const responseBytes = sendLocalReply(response, 503, body);
    return result({
      status: 503,
      flags: 'UF',
      details: 'upstream_reset_before_response_started{connection_failure}',
      responseBytes,
      attempts: tried.size,
    });
  } finally {
    clearTimeout(timer);
    response.off('close', onClose);
  }
}
