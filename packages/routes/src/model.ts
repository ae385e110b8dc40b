// Gateway API routes (v1) as a mesh proxy uses them: GAMMA routes attached to Services (l7-facts §4.1–§4.2).
// Produced by the parsers from the Kubernetes object; everything here is already validated. The parts
// every route kind shares (parentRefs, weighted backendRefs, header matches and modifiers, timeouts) are
// kept apart from the HTTP-only ones (path, query and method matches, redirects, rewrites) so that another
// kind (GRPCRoute) can be added beside HTTPRoute reusing them.

// ---- shared by every route kind ----

export type StringMatchType = 'Exact' | 'RegularExpression';

/** A header (or query parameter, or gRPC method part) compared with a value. */
export interface ValueMatch {
  readonly type: StringMatchType;
  /** Header names are lower-cased; query parameter names are case-sensitive. */
  readonly name: string;
  readonly value: string;
  /** RegularExpression only: anchored (full match, like Envoy's RE2 safe_regex). */
  readonly regex?: RegExp;
}

export interface HeaderModifier {
  /** Lower-cased names. */
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
}

/** A weighted backend; `F` is the route kind's filter type. */
export interface WeightedBackendRef<F> {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
  readonly weight: number;
  readonly filters: readonly F[];
}

/** What every route object carries, whatever its kind. */
export interface RouteObject<K extends string> {
  readonly kind: K;
  /** `namespace/name`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** metadata.creationTimestamp in ms, when given (older routes win precedence ties). */
  readonly createdAt?: number;
  readonly parentRefs: readonly ParentRef[];
  readonly hostnames: readonly string[];
  /** Non-fatal notes (unsupported features) as `field: message`, e.g. for a config dump. */
  readonly warnings: readonly string[];
}

// ---- HTTPRoute ----

export interface PathMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
  /** RegularExpression only: anchored (full match, like Envoy's RE2 safe_regex). */
  readonly regex?: RegExp;
}

export interface RouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
  readonly method?: string;
}

export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly value: string };

export interface Redirect {
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly path?: PathModifier;
  readonly port?: number;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface Rewrite {
  readonly hostname?: string;
  readonly path?: PathModifier;
}

export type RouteFilter =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly redirect: Redirect }
  | { readonly type: 'URLRewrite'; readonly rewrite: Rewrite }
  /** A valid filter this proxy does not implement (RequestMirror, CORS, ExtensionRef, ...): the rule answers 500. */
  | { readonly type: 'Unsupported'; readonly name: string };

export type BackendRef = WeightedBackendRef<RouteFilter>;

export interface RouteRule {
  readonly index: number;
  readonly name?: string;
  /** Never empty: no matches means one `PathPrefix /` match. */
  readonly matches: readonly RouteMatch[];
  readonly filters: readonly RouteFilter[];
  readonly backendRefs: readonly BackendRef[];
  /** Milliseconds; undefined = no timeout (also for "0s"). */
  readonly requestTimeoutMs?: number;
  readonly backendRequestTimeoutMs?: number;
}

export interface HttpRoute extends RouteObject<'HTTPRoute'> {
  readonly rules: readonly RouteRule[];
}
