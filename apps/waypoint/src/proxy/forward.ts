// Forwarding one request to an upstream endpoint over a pooled tunnel (HTTP/1.1 keep-alive on HBONE),
// streaming both bodies with backpressure. Like Istio's default route it retries connection failures
// (and resets on a reused keep-alive connection before any body was sent) up to twice, on other hosts.
// Failures map to Envoy's answers: 503 UH (no healthy upstream), 503 UF (connect failure), 503 UC
// (reset before headers), 502 UPE (invalid response), 504 UT (route timeout).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { pipeline } from 'node:stream';
import type { HeaderModifier } from '../l7/httproute-model.ts';
import { applyHeaderModifier, type HeaderMap } from '../routing/filters.ts';
import type { EndpointPick, UpstreamTarget } from '../upstream/endpoints.ts';
import type { UpstreamAgent, UpstreamRequestOptions } from '../upstream/connector.ts';
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

type Attempt =
  | { readonly kind: 'done'; readonly result: Omit<ForwardResult, 'attempts' | 'requestBodyBytes'> }
  | { readonly kind: 'retry'; readonly reason: string };

const MAX_ATTEMPTS = 3;

interface BodyState {
  /** Set once the body has been piped to some attempt (a later retry would lose it). */
  piped: boolean;
  bodyStarted: boolean;
  bytes: number;
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
  signal: AbortSignal,
  state: BodyState,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: Attempt): void => {
      if (settled) return;
      settled = true;
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
      signal,
    };
    const started = performance.now();
    const upstream = httpRequest(options);
    let connected = false;
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
      if (settled) return;
      if (signal.aborted)
        return done({
          kind: 'done',
          result: { status: 0, flags: 'UT', details: 'aborted', responseBytes: 0, upstream: target },
        });
      if (!connected) return done({ kind: 'retry', reason: `connect failure: ${error.message}` });
      if (upstream.reusedSocket && !state.bodyStarted)
        return done({ kind: 'retry', reason: `reset on a reused connection: ${error.message}` });
      input.downstream.unpipe(upstream);
      const mapped = failure(error);
      const bytes = sendLocalReply(input.response, mapped.status, mapped.body);
      done({
        kind: 'done',
        result: {
          status: mapped.status,
          flags: mapped.flags,
          details: mapped.details,
          responseBytes: bytes,
          upstream: target,
        },
      });
    });
    upstream.once('response', (upstreamResponse: IncomingMessage) => {
      const upstreamServiceTimeMs = performance.now() - started;
      const headers = downstreamResponseHeaders(upstreamResponse.headers);
      for (const modifier of input.responseModifiers) applyHeaderModifier(headers, modifier);
      if (input.closeAfter && 'shouldKeepAlive' in input.response) headers['connection'] = 'close';
      const status = upstreamResponse.statusCode ?? 502;
      let bytes = headerBytes(headers, `HTTP/1.1 ${status}`);
      upstreamResponse.on('data', (chunk: Buffer) => (bytes += chunk.length));
      try {
        (input.response as ServerResponse).writeHead(status, headers as Record<string, string | string[]>);
      } catch {
        upstream.destroy();
        return done({
          kind: 'done',
          result: {
            status,
            flags: 'DC',
            details: 'downstream_remote_disconnect',
            responseBytes: 0,
            upstream: target,
            upstreamServiceTimeMs,
          },
        });
      }
      pipeline(upstreamResponse, input.response as NodeJS.WritableStream, (error) => {
        const flags = !error ? '-' : input.response.destroyed && !upstreamResponse.destroyed ? 'DC' : 'UPE';
        if (error) upstream.destroy();
        done({
          kind: 'done',
          result: {
            status,
            flags,
            details: error ? 'stream_reset' : 'via_upstream',
            responseBytes: bytes,
            upstream: target,
            upstreamServiceTimeMs,
          },
        });
      });
    });
  });
}

export async function forward(agent: UpstreamAgent, input: ForwardInput): Promise<ForwardResult> {
  const overall = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const onClientGone = (): void => overall.abort(new Error('downstream went away'));
  input.response.once('close', onClientGone);
  if (input.requestTimeoutMs !== undefined)
    timers.push(setTimeout(() => overall.abort(new Error('request timeout')), input.requestTimeoutMs));
  const tried = new Set<string>();
  const state: BodyState = { piped: false, bodyStarted: false, bytes: 0 };
  let lastReason = '';
  try {
    for (let attempts = 1; attempts <= MAX_ATTEMPTS; attempts++) {
      const pick = input.pick(tried);
      if (pick.kind === 'none') {
        if (attempts > 1) break;
        const bytes = sendLocalReply(input.response, 503, 'no healthy upstream');
        return {
          status: 503,
          flags: 'UH',
          details: `no_healthy_upstream{${pick.reason}}`,
          responseBytes: bytes,
          attempts,
          requestBodyBytes: state.bytes,
        };
      }
      tried.add(pick.target.workload.uid);
      const perTry =
        input.backendRequestTimeoutMs === undefined
          ? overall.signal
          : AbortSignal.any([overall.signal, AbortSignal.timeout(input.backendRequestTimeoutMs)]);
      const outcome = await attempt(agent, input, pick.target, perTry, state);
      if (outcome.kind === 'done') {
        if (outcome.result.details !== 'aborted') return { ...outcome.result, attempts, requestBodyBytes: state.bytes };
        if (input.response.destroyed || (input.response as { writableEnded?: boolean }).writableEnded) {
          return {
            ...outcome.result,
            status: 0,
            flags: 'DC',
            details: 'downstream_remote_disconnect',
            attempts,
            requestBodyBytes: state.bytes,
          };
        }
        const bytes = sendLocalReply(input.response, 504, 'upstream request timeout');
        return {
          status: 504,
          flags: 'UT',
          details: 'upstream_response_timeout',
          upstream: pick.target,
          responseBytes: bytes,
          attempts,
          requestBodyBytes: state.bytes,
        };
      }
      lastReason = outcome.reason;
      if (overall.signal.aborted) break;
    }
    const body = `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${lastReason}`;
    const bytes = sendLocalReply(input.response, 503, body);
    return {
      status: 503,
      flags: 'UF',
      details: 'upstream_reset_before_response_started{connection_failure}',
      responseBytes: bytes,
      attempts: tried.size,
      requestBodyBytes: state.bytes,
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    input.response.off('close', onClientGone);
  }
}
