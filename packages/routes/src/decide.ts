// The routing decision for one HTTP request to a Service (l7-facts §4.1–§4.2), as a pure function:
// no routes attached → the Service itself; routes attached but none matches → 404; a matching rule →
// its redirect, or its weighted backend with header modifiers, rewrite and timeouts. What a backendRef
// names (a Service in some registry) is the caller's: `resolve` turns it into the caller's type `S`.
import { pickBackend } from './backends.ts';
import { modifyPath, redirectLocation } from './filters.ts';
import { selectRoute, type RouteEntry, type RoutedRequest } from './match.ts';
import type { BackendRef, HeaderModifier, HttpRoute, RouteRule } from './model.ts';

/** A backendRef resolved by the caller: the Service and port to send to, or why it cannot be used (500). */
export type BackendResolution<S> =
  | { readonly kind: 'service'; readonly service: S; readonly port: number }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface RouteInput<S> {
  readonly table: readonly RouteEntry[];
  /** The Service the request was sent to, and its port (where it goes when no route is attached). */
  readonly service: S;
  readonly servicePort: number;
  readonly request: RoutedRequest;
  /** Host / :authority as received. */
  readonly host: string;
  /** `?…` or ''. */
  readonly rawQuery: string;
  /** The backend chosen by weight → a Service (`servicePort` is the default for a backendRef without port). */
  readonly resolve: (backend: BackendRef, route: HttpRoute) => BackendResolution<S>;
  /** [0, 1), like Math.random. */
  readonly random: () => number;
}

export interface Forward<S> {
  readonly kind: 'forward';
  readonly service: S;
  readonly port: number;
  readonly routeName: string;
  readonly requestModifiers: readonly HeaderModifier[];
  readonly responseModifiers: readonly HeaderModifier[];
  /** URLRewrite results (path keeps the query). */
  readonly rewriteHost?: string;
  readonly rewritePath?: string;
  readonly requestTimeoutMs?: number;
  readonly backendRequestTimeoutMs?: number;
}

export interface Reply {
  readonly kind: 'reply';
  readonly status: number;
  readonly body: string;
  /** Envoy response flags, e.g. NR (no route). */
  readonly flags: string;
  /** Envoy-style response_code_details. */
  readonly details: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly routeName?: string;
  readonly responseModifiers?: readonly HeaderModifier[];
}

export type RouteOutcome<S> = Forward<S> | Reply;

export function routeName(entry: RouteEntry): string {
  return `${entry.route.key}.${entry.rule.name ?? entry.rule.index}`;
}

const modifiers = (filters: RouteRule['filters'], type: 'RequestHeaderModifier' | 'ResponseHeaderModifier') =>
  filters.flatMap((filter) => (filter.type === type ? [filter.modifier] : []));

export function routeRequest<S>(input: RouteInput<S>): RouteOutcome<S> {
  const { service, servicePort } = input;
  if (input.table.length === 0) {
    return {
      kind: 'forward',
      service,
      port: servicePort,
      routeName: 'default',
      requestModifiers: [],
      responseModifiers: [],
    };
  }
  const entry = selectRoute(input.table, input.request);
  if (!entry) return { kind: 'reply', status: 404, body: '', flags: 'NR', details: 'route_not_found' };
  const { rule } = entry;
  const name = routeName(entry);
  const unsupported = rule.filters.find((filter) => filter.type === 'Unsupported');
  if (unsupported) {
    return {
      kind: 'reply',
      status: 500,
      body: '',
      flags: '-',
      details: `filter_not_implemented{${unsupported.name}}`,
      routeName: name,
    };
  }
  const responseModifiers = modifiers(rule.filters, 'ResponseHeaderModifier');
  for (const filter of rule.filters) {
    if (filter.type !== 'RequestRedirect') continue;
    const location = redirectLocation(filter.redirect, {
      scheme: 'http',
      host: input.host,
      listenerPort: servicePort,
      path: input.request.path,
      query: input.rawQuery,
      match: entry.match.path,
    });
    return {
      kind: 'reply',
      status: filter.redirect.statusCode,
      body: '',
      flags: '-',
      details: 'via_route_redirect',
      headers: { location },
      routeName: name,
      responseModifiers,
    };
  }
  const backend = pickBackend(rule.backendRefs, input.random);
  if (!backend) {
    return { kind: 'reply', status: 500, body: '', flags: '-', details: 'no_backend_with_weight', routeName: name };
  }
  const resolved = input.resolve(backend, entry.route);
  if (resolved.kind === 'invalid') {
    return {
      kind: 'reply',
      status: 500,
      body: '',
      flags: '-',
      details: `invalid_backend{${resolved.reason}}`,
      routeName: name,
    };
  }
  const backendUnsupported = backend.filters.find((filter) => filter.type === 'Unsupported');
  if (backendUnsupported) {
    return {
      kind: 'reply',
      status: 500,
      body: '',
      flags: '-',
      details: `filter_not_implemented{${backendUnsupported.name}}`,
      routeName: name,
    };
  }
  const rewrite = rule.filters.find((filter) => filter.type === 'URLRewrite');
  const rewritten = rewrite?.type === 'URLRewrite' ? rewrite.rewrite : undefined;
  return {
    kind: 'forward',
    service: resolved.service,
    port: resolved.port,
    routeName: name,
    requestModifiers: [
      ...modifiers(rule.filters, 'RequestHeaderModifier'),
      ...modifiers(backend.filters, 'RequestHeaderModifier'),
    ],
    responseModifiers: [...responseModifiers, ...modifiers(backend.filters, 'ResponseHeaderModifier')],
    ...(rewritten?.hostname !== undefined ? { rewriteHost: rewritten.hostname } : {}),
    ...(rewritten?.path
      ? { rewritePath: modifyPath(input.request.path, rewritten.path, entry.match.path) + input.rawQuery }
      : {}),
    ...(rule.requestTimeoutMs !== undefined ? { requestTimeoutMs: rule.requestTimeoutMs } : {}),
    ...(rule.backendRequestTimeoutMs !== undefined ? { backendRequestTimeoutMs: rule.backendRequestTimeoutMs } : {}),
  };
}
