// Authentication and authorization of one HTTP request in Istio's waypoint order (l7-facts §1.7): CUSTOM
// (ext-authz; no providers are configured here, so a matching CUSTOM policy denies — fail closed), then
// RequestAuthentication (a present but invalid token → 401; no token passes without a principal), then
// DENY and ALLOW with the JWT's request.auth.* (deny → 403 `RBAC: access denied`).
import {
  authenticateRequest,
  customChecksFor,
  evaluateL7,
  type AuthorizationPolicy,
  type AuthzDecision,
  type JwksCache,
  type PathNormalization,
  type RequestAttributes,
  type RequestAuthenticationPolicy,
} from '@ambient-ts/policy';

export const RBAC_DENIED_BODY = 'RBAC: access denied';

export type PolicyOutcome =
  | {
      readonly kind: 'allow';
      readonly decision: AuthzDecision;
      readonly principal?: string;
      readonly headersToSet: Readonly<Record<string, string>>;
      readonly headersToRemove: readonly string[];
    }
  | {
      readonly kind: 'deny';
      readonly status: 401 | 403;
      readonly body: string;
      readonly flags: string;
      readonly details: string;
      readonly reason: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

export interface PolicyInput {
  readonly authorization: readonly AuthorizationPolicy[];
  readonly authentication: readonly RequestAuthenticationPolicy[];
  /** Everything but `auth` (filled in from the JWT). */
  readonly request: RequestAttributes;
  readonly jwks: JwksCache;
  readonly pathNormalization: PathNormalization;
}

export async function checkRequest(input: PolicyInput): Promise<PolicyOutcome> {
  const options = { pathNormalization: input.pathNormalization };
  const custom = customChecksFor(input.authorization, input.request, options);
  if (custom.length > 0) {
    const check = custom[0]!;
    return {
      kind: 'deny',
      status: 403,
      body: '',
      flags: 'UAEX',
      details: 'ext_authz_denied',
      reason: `CUSTOM policy ${check.policy} needs external authorizer "${check.provider}", which is not configured (fails closed)`,
    };
  }
  const authn = await authenticateRequest(
    input.authentication,
    {
      ...(input.request.method !== undefined ? { method: input.request.method } : {}),
      ...(input.request.path !== undefined ? { path: input.request.path } : {}),
      ...(input.request.headers ? { headers: input.request.headers } : {}),
    },
    { jwks: input.jwks },
  );
  if (authn.kind === 'rejected') {
    return {
      kind: 'deny',
      status: 401,
      body: authn.reason,
      flags: '-',
      details: `jwt_authn_access_denied{${authn.reason.replaceAll(' ', '_')}}`,
      reason: authn.reason,
      headers: { 'www-authenticate': 'Bearer realm="waypoint", error="invalid_token"' },
    };
  }
  const decision = evaluateL7(
    input.authorization,
    { ...input.request, ...(authn.auth ? { auth: authn.auth } : {}) },
    options,
  );
  if (!decision.allowed) {
    return {
      kind: 'deny',
      status: 403,
      body: RBAC_DENIED_BODY,
      flags: '-',
      details: `rbac_access_denied_matched_policy[${decision.policy ?? 'none'}]`,
      reason: decision.reason,
    };
  }
  if (authn.kind === 'anonymous') return { kind: 'allow', decision, headersToSet: {}, headersToRemove: [] };
  return {
    kind: 'allow',
    decision,
    ...(authn.auth.principal !== undefined ? { principal: authn.auth.principal } : {}),
    headersToSet: authn.headersToSet,
    headersToRemove: authn.headersToRemove,
  };
}
