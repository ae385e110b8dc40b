// HTTPRoute selection for one Service port (GAMMA, l7-facts §4.1–§4.2): the routes attached by a Service
// parentRef (producer routes: same namespace; `port` limits to that port), flattened into one list of
// (route, rule, match) ordered by Gateway API precedence, and the first entry a request satisfies.
import type { HttpRoute, PathMatch, RouteMatch, RouteObject, RouteRule, ValueMatch } from './model.ts';

export interface RouteEntry {
  readonly route: HttpRoute;
  readonly rule: RouteRule;
  readonly match: RouteMatch;
  readonly matchIndex: number;
}

export interface RoutedRequest {
  /** Normalized path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly method: string;
  /** Header value by lower-case name (several values joined with ","), or undefined. */
  readonly header: (name: string) => string | undefined;
}

/** Routes that apply to traffic for `service` on `servicePort` (consumer routes are not supported, as in Istio). */
export function attachedRoutes<R extends RouteObject<string>>(
  routes: readonly R[],
  service: { readonly name: string; readonly namespace: string },
  servicePort: number,
): R[] {
  return routes.filter(
    (route) =>
      route.namespace === service.namespace &&
      route.parentRefs.some(
        (parent) =>
          parent.kind === 'Service' &&
          parent.group === '' &&
          parent.name === service.name &&
          parent.namespace === service.namespace &&
          (parent.port === undefined || parent.port === servicePort),
      ),
  );
}

const pathRank = { Exact: 3, PathPrefix: 2, RegularExpression: 1 } as const;

/** Gateway API precedence between two entries (negative: `a` first). Route order breaks ties (age, then name). */
function compare(a: RouteEntry & { order: number }, b: RouteEntry & { order: number }): number {
  const pa = a.match.path;
  const pb = b.match.path;
  return (
    pathRank[pb.type] - pathRank[pa.type] ||
    pb.value.length - pa.value.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    a.order - b.order ||
    a.rule.index - b.rule.index ||
    a.matchIndex - b.matchIndex
  );
}

/** Flatten and sort; `routes` must already be in age/name order. */
export function buildRouteTable(routes: readonly HttpRoute[]): RouteEntry[] {
  const entries = routes.flatMap((route, order) =>
    route.rules.flatMap((rule) => rule.matches.map((match, matchIndex) => ({ route, rule, match, matchIndex, order }))),
  );
  return entries.sort(compare).map(({ route, rule, match, matchIndex }) => ({ route, rule, match, matchIndex }));
}

/** PathPrefix matches whole segments: `/abc` matches `/abc`, `/abc/`, `/abc/d`, not `/abcd`. */
export function prefixMatches(prefix: string, path: string): boolean {
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (trimmed === '') return true;
  return path === trimmed || path.startsWith(`${trimmed}/`);
}

function pathMatches(match: PathMatch, path: string): boolean {
  switch (match.type) {
    case 'Exact':
      return path === match.value;
    case 'PathPrefix':
      return prefixMatches(match.value, path);
    case 'RegularExpression':
      return match.regex?.test(path) ?? false;
  }
}

function valueMatches(match: ValueMatch, value: string | null | undefined): boolean {
  if (value === undefined || value === null) return false;
  return match.type === 'Exact' ? value === match.value : (match.regex?.test(value) ?? false);
}

export function requestMatches(match: RouteMatch, request: RoutedRequest): boolean {
  if (!pathMatches(match.path, request.path)) return false;
  if (match.method !== undefined && match.method !== request.method) return false;
  for (const header of match.headers) if (!valueMatches(header, request.header(header.name))) return false;
  for (const param of match.queryParams) if (!valueMatches(param, request.query.get(param.name))) return false;
  return true;
}

/** The highest-precedence entry the request satisfies, or undefined (404 when routes exist). */
export function selectRoute(table: readonly RouteEntry[], request: RoutedRequest): RouteEntry | undefined {
  return table.find((entry) => requestMatches(entry.match, request));
}
