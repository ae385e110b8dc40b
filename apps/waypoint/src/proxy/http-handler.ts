// One HTTP request through the waypoint, in Istio's order (l7-facts §1.7): path normalization, CUSTOM →
// RequestAuthentication → DENY/ALLOW, HTTPRoute routing and filters, endpoint choice, forwarding over a
// new HBONE tunnel — then metrics and an access-log line, whatever the outcome.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
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
import type { UpstreamAgent } from '../upstream/connector.ts';
import { pickEndpoint, upstreamTarget, type EndpointPick, type UpstreamTarget } from '../upstream/endpoints.ts';
import { forward } from './forward.ts';
import { headerBytes, headerText, upstreamRequestHeaders } from './headers.ts';
import { sendLocalReply } from './local-reply.ts';
import { checkRequest } from './request-policy.ts';
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
  readonly reporter: TrafficReporter;
  readonly selfWorkload: () => Workload;
  readonly draining: () => boolean;
  readonly random?: () => number;
}

type Request = IncomingMessage | Http2ServerRequest;
/** Where a request goes: a routed Service (service traffic) or, without `service`, the addressed pod. */
type Plan = Omit<Forward<Service>, 'kind' | 'service'> & { readonly service?: Service };
type Response = ServerResponse | Http2ServerResponse;

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
  const authority = target.ip.includes(':') ? `[${target.ip}]:${target.port}` : `${target.ip}:${target.port}`;
  return target.hbone ? `envoy://connect_originate/${authority}` : authority;
}

export class HttpHandler {
  readonly #deps: HttpHandlerDeps;
  readonly #tables = new Map<string, { version: number; table: RouteEntry[] }>();

  constructor(deps: HttpHandlerDeps) {
    this.#deps = deps;
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

  async handle(req: Request, res: Response, tunnel: TunnelContext): Promise<void> {
    const startTime = new Date();
    const started = performance.now();
    tunnel.inflight++;
    const deps = this.#deps;
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    const headers = upstreamRequestHeaders(req.headers);
    delete headers['expect'];
    const host = headerText(headers['host']) ?? tunnel.authority;
    const requestHeaderBytes = headerBytes(req.headers, `${method} ${rawUrl} HTTP/${req.httpVersion}`);
    const dispatched = tunnel.target.kind === 'service' ? tunnel.target.service : undefined;
    const context = {
      source: tunnel.source,
      sourcePrincipal: tunnel.peerIdentity,
      service: dispatched,
      destination: undefined as Workload | undefined,
    };
    const report = (result: {
      status: number;
      flags: string;
      details: string;
      responseBytes: number;
      requestBodyBytes?: number;
      upstream?: UpstreamTarget | undefined;
      upstreamServiceTimeMs?: number | undefined;
      routeName?: string | undefined;
      service?: Service | undefined;
      port?: number;
      policy?: string | undefined;
      reason?: string | undefined;
    }) => {
      tunnel.inflight--;
      if (tunnel.inflight === 0 && deps.draining()) tunnel.closeIdle?.();
      const service = result.service ?? dispatched;
      deps.reporter.request({
        context: { ...context, service, destination: result.upstream?.workload },
        protocol: headerText(req.headers['content-type'])?.startsWith('application/grpc') ? 'grpc' : 'http',
        startTime,
        durationMs: performance.now() - started,
        method,
        path: rawUrl,
        httpVersion: req.httpVersion,
        status: result.status,
        flags: result.flags,
        details: result.details,
        requestBytes: requestHeaderBytes + (result.requestBodyBytes ?? 0),
        responseBytes: result.responseBytes,
        upstreamServiceTimeMs: result.upstreamServiceTimeMs,
        headers: {
          userAgent: headerText(req.headers['user-agent']),
          xForwardedFor: headerText(req.headers['x-forwarded-for']),
          requestId: headerText(headers['x-request-id']),
          authority: host,
        },
        upstreamHost: upstreamHost(result.upstream),
        upstreamCluster: upstreamCluster(result.upstream, service, result.port ?? destinationPort(tunnel)),
        downstreamLocal: tunnel.authority,
        downstreamRemote: `${tunnel.remote.address}:${tunnel.remote.port}`,
        routeName: result.routeName,
        policy: result.policy,
        reason: result.reason,
      });
    };
    const reply = (
      status: number,
      body: string,
      flags: string,
      details: string,
      extra: HeaderMap = {},
      more: { policy?: string | undefined; reason?: string | undefined; routeName?: string | undefined } = {},
    ) => {
      const responseBytes = sendLocalReply(res, status, body, {
        ...extra,
        ...(deps.draining() ? closeHeader(res) : {}),
      });
      report({ status, flags, details, responseBytes, ...more });
    };

    try {
      const normalized = normalizePath(rawUrl, deps.pathNormalization);
      if (!normalized.ok) return reply(400, 'Bad Request', '-', `path_normalization_failed{${normalized.reason}}`);
      const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
      const target = this.#waypointTarget(dispatched);
      const policy = await checkRequest({
        authorization: selectForWaypoint(deps.l7.authorizationPolicies(), target),
        authentication: selectForWaypoint(deps.l7.requestAuthentications(), target),
        request: {
          protocol: 'http',
          method,
          host,
          path: rawUrl,
          headers: req.headers as Record<string, string | string[] | undefined>,
          sourceIp: tunnel.remote.address,
          sourceIdentity: tunnel.peerIdentity,
          destinationIp: destinationIp(tunnel),
          destinationPort: destinationPort(tunnel),
        },
        jwks: deps.jwks,
        pathNormalization: deps.pathNormalization,
      });
      if (policy.kind === 'deny') {
        return reply(policy.status, policy.body, policy.flags, policy.details, policy.headers ?? {}, {
          reason: policy.reason,
        });
      }
      for (const name of policy.headersToRemove) delete headers[name];
      Object.assign(headers, policy.headersToSet);
      const allowedBy = policy.decision.policy;

      let plan: Plan;
      if (tunnel.target.kind === 'service') {
        const { servicePort } = tunnel.target;
        const outcome = routeRequest({
          table: this.#table(tunnel.target.service, servicePort),
          service: tunnel.target.service,
          servicePort,
          request: {
            path: normalized.path,
            query: new URLSearchParams(query.slice(1)),
            method,
            header: (name) => headerText(req.headers[name]),
          },
          host,
          rawQuery: query,
          resolve: (backend, route) =>
            resolveBackend(deps.store, backend, route.namespace, deps.clusterDomain, servicePort),
          random: deps.random ?? Math.random,
        });
        if (outcome.kind === 'reply') {
          const extra: HeaderMap = { ...outcome.headers };
          for (const modifier of outcome.responseModifiers ?? []) applyHeaderModifier(extra, modifier);
          return reply(outcome.status, outcome.body, outcome.flags, outcome.details, extra, {
            routeName: outcome.routeName,
            policy: allowedBy,
          });
        }
        plan = outcome;
      } else {
        // Workload-addressed traffic: no Service context, back to the same pod ("direct", no routes).
        plan = { port: tunnel.target.port, routeName: 'direct', requestModifiers: [], responseModifiers: [] };
      }
      for (const modifier of plan.requestModifiers) applyHeaderModifier(headers, modifier);
      if (plan.rewriteHost !== undefined) headers['host'] = plan.rewriteHost;
      const path = plan.rewritePath ?? normalized.path + query;
      const workloadTarget =
        tunnel.target.kind === 'workload'
          ? upstreamTarget(tunnel.target.workload, tunnel.target.ip, tunnel.target.port)
          : undefined;
      const backend = plan.service;
      const pick = (exclude: ReadonlySet<string>): EndpointPick =>
        backend
          ? pickEndpoint(deps.store, backend, plan.port, deps.selfWorkload(), exclude, deps.random)
          : workloadTarget
            ? { kind: 'endpoint', target: workloadTarget }
            : { kind: 'none', reason: 'no backend' };
      const result = await forward(deps.agent, {
        downstream: req,
        response: res,
        method,
        path,
        headers,
        pick,
        responseModifiers: plan.responseModifiers,
        closeAfter: deps.draining(),
        ...(plan.requestTimeoutMs !== undefined ? { requestTimeoutMs: plan.requestTimeoutMs } : {}),
        ...(plan.backendRequestTimeoutMs !== undefined
          ? { backendRequestTimeoutMs: plan.backendRequestTimeoutMs }
          : {}),
      });
      report({
        ...result,
        routeName: plan.routeName,
        ...(backend ? { service: backend } : {}),
        port: plan.port,
        policy: allowedBy,
      });
    } catch (error) {
      reply(500, 'internal error', '-', 'waypoint_internal_error', {}, { reason: (error as Error).message });
    }
  }
}

function closeHeader(res: Response): HeaderMap {
  // HTTP/2 has no Connection header; GOAWAY ends those sessions instead.
  return 'shouldKeepAlive' in res ? { connection: 'close' } : {};
}
