// @ambient-ts/policy — Istio AuthorizationPolicy (L4 and L7) and RequestAuthentication (JWT): models and pure, explainable evaluators.
export { PolicyError, type PolicyErrorCode } from './errors.ts';
export {
  policyKey,
  type Attachment,
  type AuthorizationPolicy,
  type Cidr,
  type Clause,
  type Condition,
  type ConditionAttribute,
  type Match,
  type PathMatcher,
  type PolicyAction,
  type PolicyProblem,
  type RequestPrincipalMatcher,
  type Rule,
  type ServiceAccountRef,
  type StringMatcher,
  type TargetRef,
  type XdsScope,
} from './model.ts';

// Loading
export { loadAuthorizationPolicy, parseAuthorizationPolicy, type LoadOptions, type Loaded } from './kube-policy.ts';
export { loadPolicyDocuments, parsePolicyDocuments, type LoadedDocuments, type YamlLoadOptions } from './yaml-load.ts';
export {
  fromXdsAuthorization,
  failClosedAuthorization,
  XDS_MATCH_ATTRIBUTES,
  type XdsAuthorizationResult,
} from './xds-from.ts';
export { toXdsAuthorization, translateForZtunnel, type ToXdsOptions, type ZtunnelTranslation } from './xds-to.ts';

// Attachment
export {
  appliesToWorkload,
  attachesToWaypoint,
  selectForWaypoint,
  type WaypointTarget,
  type WorkloadRef,
} from './attach.ts';

// Evaluation
export type { HeaderValue, L4Connection, RequestAttributes, RequestAuth } from './attributes.ts';
export type { AuthzDecision, CustomCheck, CustomResults, DryRunMatch } from './decision.ts';
export type { ClauseTrace, ConditionTrace, EvaluateOptions, MatchTrace, Outcome, RuleTrace } from './engine.ts';
export {
  evaluateL4,
  evaluateL7,
  explainL4,
  explainL7,
  formatExplanation,
  type Explanation,
  type L7Options,
  type PolicyTrace,
} from './evaluate.ts';
export {
  authorizeRequest,
  customChecksFor,
  type AuthorizeOptions,
  type AuthorizeResult,
  type ExternalAuthorizer,
  type ExternalAuthzResponse,
} from './custom.ts';
export { normalizePath, type NormalizedPath, type PathNormalization } from './path.ts';

// RequestAuthentication / JWT
export {
  loadRequestAuthentication,
  parseRequestAuthentication,
  type JwtHeaderLocation,
  type JwtRule,
  type RequestAuthenticationPolicy,
} from './jwt/request-authn.ts';
export { JwksCache, type FetchLike, type JsonWebKeySet, type JwksCacheOptions } from './jwt/jwks.ts';
export { authenticateRequest, type AuthenticateOptions, type AuthnResult } from './jwt/authenticate.ts';
export type { TokenRequest } from './jwt/tokens.ts';
