// The one record of one HTTP request through the waypoint: opened when the request arrives (it counts
// in its tunnel's `inflight` from then on), filled in by the stages, and closed by `closeRecord`, which
// runs exactly once per record — it gives the in-flight slot back and hands the metrics and access-log
// sink one report, and a sink that throws changes neither.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { formatSocketAddress } from '@ambient-ts/addresses';
import type { Service, Workload } from '@ambient-ts/discovery';
import type { HeaderMap } from '@ambient-ts/routes';
import type { RequestReport } from '../telemetry/reporter.ts';
import { targetAuthority, type UpstreamTarget } from '../upstream/endpoints.ts';
import { headerBytes, headerText, upstreamRequestHeaders } from './headers.ts';
import { destinationPort, type TunnelContext } from './tunnel.ts';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;
export type Downstream = ServerResponse | Http2ServerResponse;

/** How the request ended, whichever stage ended it. */
export interface Outcome {
  readonly status: number;
  readonly flags: string;
  readonly details: string;
  readonly responseBytes: number;
  readonly requestBodyBytes?: number;
  readonly upstream?: UpstreamTarget | undefined;
  readonly upstreamServiceTimeMs?: number | undefined;
  /** Set when a route decided where the request goes (the backend, not the Service dialed). */
  readonly service?: Service | undefined;
  readonly port?: number;
  readonly reason?: string | undefined;
  /** grpc-status from the upstream's trailers or trailers-only answer. */
  readonly grpcStatus?: string | undefined;
}

export interface RequestRecord {
  readonly req: DownstreamRequest;
  readonly res: Downstream;
  readonly tunnel: TunnelContext;
  readonly startTime: Date;
  readonly started: number;
  readonly method: string;
  /** The request target as received (path and query). */
  readonly rawUrl: string;
  /** The headers as they will go upstream; the authenticate and route stages edit them. */
  readonly headers: HeaderMap;
  /** Host / :authority (the CONNECT authority when absent). */
  readonly host: string;
  readonly requestHeaderBytes: number;
  /** The Service the tunnel was addressed to (service traffic). */
  readonly dispatched: Service | undefined;
  /** normalise: the normalised path (no query) and the query (`?…` or ''). */
  path?: string;
  query?: string;
  /** authorise: the ALLOW policy that let it through. */
  allowedBy?: string | undefined;
  /** route: the HTTPRoute rule's name (`ns/name.rule`, `default`, `direct`). */
  routeName?: string | undefined;
  /** Set by closeRecord, once. */
  outcome?: Outcome;
}

/** `method` overrides the request's (an RFC 8441 WebSocket CONNECT is a GET for policy and routing). */
export function openRecord(
  req: DownstreamRequest,
  res: Downstream,
  tunnel: TunnelContext,
  method = req.method ?? 'GET',
): RequestRecord {
  tunnel.inflight++;
  const rawUrl = req.url ?? '/';
  const headers = upstreamRequestHeaders(req.headers);
  delete headers['expect'];
  return {
    req,
    res,
    tunnel,
    startTime: new Date(),
    started: performance.now(),
    method,
    rawUrl,
    headers,
    host: headerText(headers['host']) ?? tunnel.authority,
    requestHeaderBytes: headerBytes(req.headers, `${method} ${rawUrl} HTTP/${req.httpVersion}`),
    dispatched: tunnel.target.kind === 'service' ? tunnel.target.service : undefined,
  };
}

function upstreamCluster(
  target: UpstreamTarget | undefined,
  service: Service | undefined,
  port: number,
): string | undefined {
  if (service) return `inbound-vip|${port}|http|${service.hostname}`;
  return target ? 'encap' : undefined;
}

function upstreamHost(target: UpstreamTarget | undefined): string | undefined {
  if (!target) return undefined;
  const authority = targetAuthority(target);
  return target.hbone ? `envoy://connect_originate/${authority}` : authority;
}

/**
 * What a gRPC client was answered: the HTTP status on the wire (200 for a gRPC local reply, as Envoy
 * reports it) and the grpc-status (upstream trailers, else the trailers-only HEADERS sent downstream).
 */
function grpcAnswer(res: Downstream, outcome: Outcome): { status: number; grpcStatus?: string } {
  const sent = 'stream' in res ? res.stream.sentHeaders : undefined;
  const status = sent?.[':status'] === undefined ? outcome.status : Number(sent[':status']);
  const grpcStatus = outcome.grpcStatus ?? headerText(sent?.['grpc-status'] as string | undefined);
  return grpcStatus === undefined ? { status } : { status, grpcStatus };
}

/** The report of a closed record: Istio's request metrics labels and Envoy's access-log fields. */
export function requestReport(record: RequestRecord, outcome: Outcome): RequestReport {
  const { req, tunnel } = record;
  const service = outcome.service ?? record.dispatched;
  const destination: Workload | undefined = outcome.upstream?.workload;
  const protocol = headerText(req.headers['content-type'])?.startsWith('application/grpc') ? 'grpc' : 'http';
  const answered = protocol === 'grpc' ? grpcAnswer(record.res, outcome) : { status: outcome.status };
  return {
    context: { source: tunnel.source, sourcePrincipal: tunnel.peerIdentity, service, destination },
    protocol,
    startTime: record.startTime,
    durationMs: performance.now() - record.started,
    method: record.method,
    path: record.rawUrl,
    httpVersion: req.httpVersion,
    ...answered,
    flags: outcome.flags,
    details: outcome.details,
    requestBytes: record.requestHeaderBytes + (outcome.requestBodyBytes ?? 0),
    responseBytes: outcome.responseBytes,
    upstreamServiceTimeMs: outcome.upstreamServiceTimeMs,
    headers: {
      userAgent: headerText(req.headers['user-agent']),
      xForwardedFor: headerText(req.headers['x-forwarded-for']),
      requestId: headerText(record.headers['x-request-id']),
      authority: record.host,
    },
    upstreamHost: upstreamHost(outcome.upstream),
    upstreamCluster: upstreamCluster(outcome.upstream, service, outcome.port ?? destinationPort(tunnel)),
    downstreamLocal: tunnel.authority,
    downstreamRemote: formatSocketAddress(tunnel.remote),
    routeName: record.routeName,
    policy: record.allowedBy,
    reason: outcome.reason,
  };
}

export interface CloseHooks {
  /** The metrics and access-log sink. */
  readonly report: (report: RequestReport) => void;
  /** Told when `report` throws (the request is still closed and counted once). */
  readonly reportFailed: (error: unknown) => void;
  readonly draining: () => boolean;
}

/**
 * The report stage: the only place a record is closed. A second call for the same record is ignored, so
 * the tunnel's `inflight` goes down once and one report is made, whatever throws where.
 */
export function closeRecord(record: RequestRecord, outcome: Outcome, hooks: CloseHooks): void {
  if (record.outcome) return;
  record.outcome = outcome;
  const { tunnel } = record;
  tunnel.inflight--;
  if (tunnel.inflight === 0 && hooks.draining()) tunnel.closeIdle?.();
  try {
    hooks.report(requestReport(record, outcome));
  } catch (error) {
    try {
      hooks.reportFailed(error);
    } catch {
      // nothing left to tell: the request itself is answered and accounted for
    }
  }
}
