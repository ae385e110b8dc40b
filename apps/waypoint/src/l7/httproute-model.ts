// Gateway API HTTPRoute (v1) as the waypoint uses it: GAMMA routes attached to Services (l7-facts §4.1–§4.2).
// Produced by httproute-parse.ts from the Kubernetes object; everything here is already validated.

export type StringMatchType = 'Exact' | 'RegularExpression';

export interface PathMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
  /** RegularExpression only: anchored (full match, like Envoy's RE2 safe_regex). */
  readonly regex?: RegExp;
}

export interface ValueMatch {
  readonly type: StringMatchType;
  /** Header names are lower-cased; query parameter names are case-sensitive. */
  readonly name: string;
  readonly value: string;
  readonly regex?: RegExp;
}

export interface RouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
  readonly method?: string;
}

export interface HeaderModifier {
  /** Lower-cased names. */
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
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
  /** A valid filter this waypoint does not implement (RequestMirror, CORS, ExtensionRef, ...): the rule answers 500. */
  | { readonly type: 'Unsupported'; readonly name: string };

export interface BackendRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
  readonly weight: number;
  readonly filters: readonly RouteFilter[];
}

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

export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
}

export interface HttpRoute {
  readonly kind: 'HTTPRoute';
  /** `namespace/name`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** metadata.creationTimestamp in ms, when given (older routes win precedence ties). */
  readonly createdAt?: number;
  readonly parentRefs: readonly ParentRef[];
  readonly hostnames: readonly string[];
  readonly rules: readonly RouteRule[];
  /** Non-fatal notes (unsupported features), shown in /config_dump. */
  readonly warnings: readonly string[];
}
