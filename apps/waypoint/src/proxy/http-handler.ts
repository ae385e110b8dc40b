// One HTTP request through the waypoint as explicit stages over one RequestRecord, in Istio's order
// (l7-facts §1.7):
//   normalise → authenticate → authorise → route → pick → forward → report
// normalise (path normalization), authenticate (CUSTOM, RequestAuthentication), authorise (DENY/ALLOW),
// route (HTTPRoute via @ambient-ts/routes, filters), pick (endpoint choice, re-run by forward on retries),
// forward (over a pooled HBONE tunnel). A stage either hands on to the next or ends the request with a
// local reply; either way the outcome goes to `report` (closeRecord), which runs exactly once per request
// — also when a stage throws (500) and when the metrics/access-log sink itself throws.
import { serviceKey, type DiscoveryStore, type Service, type Workload } from '@ambient-ts/discovery';
import {
  normalizePath,
  selectForWaypoint,
  type JwksCache,
  type PathNormalization,
  type WaypointTarget,
} from '@ambient-ts/policy';
import {
  applyHeaderModifier,
  attachedRoutes,
  buildRouteTable,
  routeRequest,
  type Forward,
  type HeaderMap,
  type RouteEntry,
} from '@ambient-ts/routes';
import type { L7Store } from '../l7/l7-store.ts';
import { resolveBackend } from '../routing/backends.ts';
import type { WaypointSelf } from '../routing/dispatch.ts';
import type { TrafficReporter } from '../telemetry/reporter.ts';
import type { AppProtocols } from '../state/app-protocols.ts';
import type { UpstreamAgent } from '../upstream/connector.ts';
import { pickEndpoint, upstreamTarget, type EndpointPick } from '../upstream/endpoints.ts';
import type { UpstreamH2Sessions } from '../upstream/h2-sessions.ts';
import { upstreamProtocol } from '../upstream/protocol.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Readable, type Duplex } from 'node:stream';
import { forward } from './forward.ts';
import { headerText } from './headers.ts';
import { sendLocalReply } from './local-reply.ts';
import {
  closeRecord,
  openRecord,
  type CloseHooks,
  type Downstream,
  type DownstreamRequest,
  type Outcome,
  type RequestRecord,
} from './request-record.ts';
import { authenticate, authorise, type PolicyInput } from './request-policy.ts';
import { splice, upgradeRequestHeaders, upgradeResponse, write101, write200, type SpliceResult } from './upgrade.ts';
import { destinationIp, destinationPort, type TunnelContext } from './tunnel.ts';

export interface HttpHandlerDeps {
  readonly store: DiscoveryStore;
  readonly l7: L7Store;
  readonly self: WaypointSelf;
  readonly rootNamespace: string;
  readonly clusterDomain: string;
  readonly pathNormalization: PathNormalization;
  readonly jwks: JwksCache;
  readonly agent: UpstreamAgent;
  /** HTTP/2 upstream sessions and the Service port protocols that choose them (HTTP/1.1 without them). */
  readonly h2?: UpstreamH2Sessions;
  readonly protocols?: AppProtocols;
  readonly reporter: Pick<TrafficReporter, 'request'>;
  /** Told when reporting a finished request throws (the request still counts as reported). */
  readonly reportFailed?: (error: unknown) => void;
  readonly selfWorkload: () => Workload;
  readonly draining: () => boolean;
  readonly random?: () => number;
}

/** A response the waypoint writes itself, ending the request at the stage that decided it. */
interface LocalReply {
  readonly status: number;
  readonly body: string;
  readonly flags: string;
  readonly details: string;
  readonly headers?: Readonly<HeaderMap>;
  readonly reason?: string;
}

/** The downstream side of an HTTP/1.1 upgrade request (node:http's 'upgrade' event). */
interface UpgradeDownstream {
  readonly socket: Duplex;
  /** Bytes the client sent past the request's header block. */
  readonly head: Buffer;
  /** RFC 8441 over HTTP/2: the 101 is answered as a 200 on the stream. */
  readonly h2?: boolean;
}

/** Where a request goes: a routed Service (service traffic) or, without `service`, the addressed pod. */
type Plan = Omit<Forward<Service>, 'kind' | 'service'> & { readonly service?: Service };

export class HttpHandler {
  readonly #deps: HttpHandlerDeps;
  readonly #tables = new Map<string, { version: number; table: RouteEntry[] }>();
  readonly #close: CloseHooks;

  constructor(deps: HttpHandlerDeps) {
    this.#deps = deps;
    this.#close = {
      report: (report) => deps.reporter.request(report),
      reportFailed: deps.reportFailed ?? (() => {}),
      draining: deps.draining,
    };
  }

  async handle(req: DownstreamRequest, res: Downstream, tunnel: TunnelContext): Promise<void> {
    await this.#handle(openRecord(req, res, tunnel));
  }

  /**
   * An HTTP/1.1 WebSocket upgrade (proxy/upgrade.ts): the same stages; forwarded with its upgrade headers,
   * a 101 splices the connections and the request is reported when the spliced stream is over.
   */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, tunnel: TunnelContext): Promise<void> {
    await this.#handle(openRecord(req, upgradeResponse(req, socket), tunnel), { socket, head });
  }

  /**
   * An RFC 8441 WebSocket (HTTP/2 extended CONNECT, `:protocol websocket`): policy and routing see a GET;
   * forwarded as an HTTP/1.1 upgrade; the endpoint's 101 becomes a 200 and the HTTP/2 stream is spliced.
   */
  async handleH2WebSocket(req: Http2ServerRequest, res: Http2ServerResponse, tunnel: TunnelContext): Promise<void> {
    req.resume(); // the stream's bytes go to the splice, not to the request body
    await this.#handle(openRecord(req, res, tunnel, 'GET'), { socket: req.stream, head: Buffer.alloc(0), h2: true });
  }

  async #handle(record: RequestRecord, upgrade?: UpgradeDownstream): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#run(record, upgrade);
    } catch (error) {
      outcome = this.#reply(record, {
        status: 500,
        body: 'internal error',
        flags: '-',
        details: 'waypoint_internal_error',
        reason: (error as Error).message,
      });
    }
    closeRecord(record, outcome, this.#close);
  }

  /** The stages in order; each `LocalReply` ends the request there. */
  async #run(record: RequestRecord, upgrade?: UpgradeDownstream): Promise<Outcome> {
    const normalised = this.#normalise(record);
    if (normalised) return this.#reply(record, normalised);
    const policy = this.#policyInput(record);
    const authenticated = await authenticate(policy);
    if (authenticated.kind === 'deny') return this.#reply(record, authenticated);
    for (const name of authenticated.headersToRemove) delete record.headers[name];
    Object.assign(record.headers, authenticated.headersToSet);
    const allowed = authorise(policy, authenticated);
    if (allowed.kind === 'deny') return this.#reply(record, allowed);
    record.allowedBy = allowed.decision.policy;
    const plan = this.#route(record);
    if ('status' in plan) return this.#reply(record, plan);
    if (upgrade) return this.#upgrade(record, plan, this.#picker(record, plan), upgrade);
    return this.#forward(record, plan, this.#picker(record, plan));
  }

  /** normalise: Istio's path normalization; a path it refuses is a 400. */
  #normalise(record: RequestRecord): LocalReply | undefined {
    const normalized = normalizePath(record.rawUrl, this.#deps.pathNormalization);
    if (!normalized.ok) {
      return {
        status: 400,
        body: 'Bad Request',
        flags: '-',
        details: `path_normalization_failed{${normalized.reason}}`,
      };
    }
    const { rawUrl } = record;
    record.path = normalized.path;
    record.query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
    return undefined;
  }

  /** What authenticate and authorise look at: the policies attached here and the request's attributes. */
  #policyInput(record: RequestRecord): PolicyInput {
    const deps = this.#deps;
    const { tunnel, req } = record;
    const target = this.#waypointTarget(record.dispatched);
    return {
      authorization: selectForWaypoint(deps.l7.authorizationPolicies(), target),
      authentication: selectForWaypoint(deps.l7.requestAuthentications(), target),
      request: {
        protocol: 'http',
        method: record.method,
        host: record.host,
        path: record.rawUrl,
        headers: req.headers as Record<string, string | string[] | undefined>,
        sourceIp: tunnel.remote.address,
        sourceIdentity: tunnel.peerIdentity,
        destinationIp: destinationIp(tunnel),
        destinationPort: destinationPort(tunnel),
      },
      jwks: deps.jwks,
      pathNormalization: deps.pathNormalization,
    };
  }

  /**
   * route: HTTPRoutes attached to the Service port decide the backend, filters and timeouts (404, redirects
   * and 500s are local replies); workload-addressed traffic goes back to the same pod ("direct", no routes).
   * Request header modifiers and URLRewrite are applied to the record here.
   */
  #route(record: RequestRecord): Plan | LocalReply {
    const deps = this.#deps;
    const { tunnel, req } = record;
    const path = record.path ?? '/';
    const query = record.query ?? '';
    let plan: Plan;
    if (tunnel.target.kind === 'service') {
      const { servicePort } = tunnel.target;
      const outcome = routeRequest({
        table: this.#table(tunnel.target.service, servicePort),
        service: tunnel.target.service,
        servicePort,
        request: {
          path,
          query: new URLSearchParams(query.slice(1)),
          method: record.method,
          header: (name) => headerText(req.headers[name]),
        },
        host: record.host,
        rawQuery: query,
        resolve: (backend, route) =>
          resolveBackend(deps.store, backend, route.namespace, deps.clusterDomain, servicePort),
        random: deps.random ?? Math.random,
      });
      record.routeName = outcome.routeName;
      if (outcome.kind === 'reply') {
        const headers: HeaderMap = { ...outcome.headers };
        for (const modifier of outcome.responseModifiers ?? []) applyHeaderModifier(headers, modifier);
        return { status: outcome.status, body: outcome.body, flags: outcome.flags, details: outcome.details, headers };
      }
      plan = outcome;
    } else {
      plan = { port: tunnel.target.port, routeName: 'direct', requestModifiers: [], responseModifiers: [] };
      record.routeName = plan.routeName;
    }
    for (const modifier of plan.requestModifiers) applyHeaderModifier(record.headers, modifier);
    if (plan.rewriteHost !== undefined) record.headers['host'] = plan.rewriteHost;
    return plan;
  }

  /** pick: one endpoint of the routed Service (or the addressed pod), avoiding those already tried. */
  #picker(record: RequestRecord, plan: Plan): (exclude: ReadonlySet<string>) => EndpointPick {
    const deps = this.#deps;
    const { target } = record.tunnel;
    const backend = plan.service;
    if (backend) {
      return (exclude) => pickEndpoint(deps.store, backend, plan.port, deps.selfWorkload(), exclude, deps.random);
    }
    if (target.kind === 'workload') {
      const pod = upstreamTarget(target.workload, target.ip, target.port);
      return () => ({ kind: 'endpoint', target: pod });
    }
    return () => ({ kind: 'none', reason: 'no backend' });
  }

  /** forward: the request over a pooled tunnel, with Istio's retries on connection failures. */
  async #forward(
    record: RequestRecord,
    plan: Plan,
    pick: (exclude: ReadonlySet<string>) => EndpointPick,
  ): Promise<Outcome> {
    const result = await forward(this.#deps.agent, {
      downstream: record.req,
      response: record.res,
      method: record.method,
      path: plan.rewritePath ?? (record.path ?? '/') + (record.query ?? ''),
      headers: record.headers,
      pick,
      responseModifiers: plan.responseModifiers,
      closeAfter: this.#deps.draining(),
      ...(this.#deps.h2 ? { h2: this.#deps.h2, upstreamProtocol: this.#upstreamProtocol(record, plan) } : {}),
      ...(plan.requestTimeoutMs !== undefined ? { requestTimeoutMs: plan.requestTimeoutMs } : {}),
      ...(plan.backendRequestTimeoutMs !== undefined ? { backendRequestTimeoutMs: plan.backendRequestTimeoutMs } : {}),
    });
    return { ...result, ...(plan.service ? { service: plan.service } : {}), port: plan.port };
  }

  /** HTTP/2 for ports declared HTTP2/gRPC, else the downstream's protocol (l7-facts §1.6). */
  #upstreamProtocol(record: RequestRecord, plan: Plan): 'http1' | 'h2' {
    const declared = plan.service
      ? (this.#deps.protocols?.get(serviceKey(plan.service), plan.port) ?? 'UNKNOWN')
      : 'UNKNOWN';
    return upstreamProtocol(declared, record.req.httpVersion);
  }

  /** forward, for an upgrade: a 101 splices both connections; the outcome counts the spliced bytes. */
  async #upgrade(
    record: RequestRecord,
    plan: Plan,
    pick: (exclude: ReadonlySet<string>) => EndpointPick,
    downstream: UpgradeDownstream,
  ): Promise<Outcome> {
    let spliced: Promise<SpliceResult> | undefined;
    const result = await forward(this.#deps.agent, {
      downstream: downstream.h2 ? (Readable.from([]) as never) : record.req,
      response: record.res,
      method: record.method,
      path: plan.rewritePath ?? (record.path ?? '/') + (record.query ?? ''),
      headers: upgradeRequestHeaders(record.headers, record.req),
      pick,
      responseModifiers: plan.responseModifiers,
      ...(plan.requestTimeoutMs !== undefined ? { requestTimeoutMs: plan.requestTimeoutMs } : {}),
      ...(plan.backendRequestTimeoutMs !== undefined ? { backendRequestTimeoutMs: plan.backendRequestTimeoutMs } : {}),
      onUpgrade: (response, socket, head) => {
        const bytes = downstream.h2
          ? write200(record.res as Http2ServerResponse, response, plan.responseModifiers)
          : write101(record.res as ServerResponse, downstream.socket, response, plan.responseModifiers);
        spliced = splice(downstream.socket, socket, downstream.head, head);
        return bytes;
      },
    });
    const outcome: Outcome = {
      ...result,
      // Over HTTP/2 the client saw a 200 (RFC 8441), and that is what is counted, as Envoy does.
      ...(downstream.h2 && result.status === 101 ? { status: 200 } : {}),
      ...(plan.service ? { service: plan.service } : {}),
      port: plan.port,
    };
    if (!spliced) return outcome;
    const stream = await spliced;
    return {
      ...outcome,
      requestBodyBytes: (outcome.requestBodyBytes ?? 0) + stream.sent,
      responseBytes: outcome.responseBytes + stream.received,
      ...(stream.error !== undefined ? { reason: stream.error } : {}),
    };
  }

  #reply(record: RequestRecord, reply: LocalReply): Outcome {
    const responseBytes = sendLocalReply(record.res, reply.status, reply.body, {
      ...reply.headers,
      ...(this.#deps.draining() ? closeHeader(record.res) : {}),
    });
    return {
      status: reply.status,
      flags: reply.flags,
      details: reply.details,
      responseBytes,
      ...(reply.reason !== undefined ? { reason: reply.reason } : {}),
    };
  }

  #table(service: Service, port: number): RouteEntry[] {
    const key = `${serviceKey(service)}|${port}`;
    const cached = this.#tables.get(key);
    if (cached && cached.version === this.#deps.l7.version) return cached.table;
    const table = buildRouteTable(attachedRoutes(this.#deps.l7.routes(), service, port));
    this.#tables.set(key, { version: this.#deps.l7.version, table });
    return table;
  }

  #waypointTarget(service: Service | undefined): WaypointTarget {
    const { self, l7 } = this.#deps;
    const gateway = l7.gateway(self.namespace, self.gatewayName);
    return {
      rootNamespace: this.#deps.rootNamespace,
      gateway: {
        name: self.gatewayName,
        namespace: self.namespace,
        gatewayClassName: gateway?.gatewayClassName ?? 'istio-waypoint',
      },
      ...(service ? { service: { name: service.name, namespace: service.namespace } } : {}),
    };
  }
}

function closeHeader(res: Downstream): HeaderMap {
  // HTTP/2 has no Connection header; GOAWAY ends those sessions instead.
  return 'shouldKeepAlive' in res ? { connection: 'close' } : {};
}
