// Forwarding one request to an upstream endpoint over a pooled tunnel (HTTP/1.1 keep-alive on HBONE),
// streaming both bodies with backpressure. Like Istio's default route it retries connection failures
// (and resets on a reused keep-alive connection before any body was sent) up to twice, on other hosts.
// Failures map to Envoy's answers: 503 UH (no healthy upstream), 503 UF (connect failure), 503 UC
// (reset before headers), 502 UPE (invalid response), 504 UT (route or per-try timeout), DC (client left).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { applyHeaderModifier, type HeaderMap, type HeaderModifier } from '@ambient-ts/routes';
import type { UpstreamAgent, UpstreamRequestOptions } from '../upstream/connector.ts';
import type { EndpointPick, UpstreamTarget } from '../upstream/endpoints.ts';
import { downstreamResponseHeaders, headerBytes } from './headers.ts';
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
      const outcome = await attempt(agent, input, pick.target, cancellation, state);
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
