// @ambient-ts/routes — Gateway API routes for a mesh proxy: the HTTPRoute model, parsing with every
// problem tied to its field (and file:line from YAML), and the request-time decisions: attachment to a
// Service port, Gateway API precedence, matching, weighted backends and filters.
export type {
  BackendRef,
  HeaderModifier,
  HttpRoute,
  ParentRef,
  PathMatch,
  PathModifier,
  Redirect,
  Rewrite,
  RouteFilter,
  RouteMatch,
  RouteObject,
  RouteRule,
  StringMatchType,
  ValueMatch,
  WeightedBackendRef,
} from './model.ts';
export { parseHttpRoute, type ParsedHttpRoute } from './parse-http.ts';
export type { Parsed, ParseFallback } from './parse-common.ts';
export { loadRouteDocuments, type LoadedRoutes, type RouteYamlOptions } from './yaml.ts';
export {
  formatPath,
  isRecord,
  ObjectReader,
  ProblemList,
  problemLine,
  problemText,
  type FieldPath,
  type JsonRecord,
  type RouteProblem,
} from './reader.ts';
export { parseGatewayDuration } from './duration.ts';
export {
  attachedRoutes,
  buildRouteTable,
  prefixMatches,
  requestMatches,
  selectRoute,
  type RouteEntry,
  type RoutedRequest,
} from './match.ts';
export {
  applyHeaderModifier,
  modifyPath,
  redirectLocation,
  replacePrefix,
  splitHost,
  type HeaderMap,
  type RedirectInput,
} from './filters.ts';
export { pickBackend } from './backends.ts';
export {
  routeName,
  routeRequest,
  type BackendResolution,
  type Forward,
  type Reply,
  type RouteInput,
  type RouteOutcome,
} from './decide.ts';
