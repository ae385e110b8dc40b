// The authenticate and authorise stages of one HTTP request, in Istio's waypoint order (l7-facts §1.7):
// CUSTOM (ext-authz; no providers are configured here, so a matching CUSTOM policy denies — fail closed),
// then RequestAuthentication (a present but invalid token → 401; no token passes without a principal),
// then DENY and ALLOW with the JWT's request.auth.* (deny → 403 `RBAC: access denied`).
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

/** A local reply of the authenticate or authorise stage. */
export interface PolicyDenial {
  readonly kind: 'deny';
  readonly status: 401 | 403;
  readonly body: string;
  readonly flags: string;
  readonly details: string;
  readonly reason: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Who the request is from, beyond the tunnel's peer: the JWT's claims and the header edits they imply. */
export interface Authenticated {
  readonly kind: 'authenticated';
  readonly auth?: RequestAttributes['auth'];
  readonly principal?: string;
  readonly headersToSet: Readonly<Record<string, string>>;
  readonly headersToRemove: readonly string[];
}

export interface Allowed {
  readonly kind: 'allow';
  readonly decision: AuthzDecision;
}

export interface PolicyInput {
  readonly authorization: readonly AuthorizationPolicy[];
  readonly authentication: readonly RequestAuthenticationPolicy[];
  /** Everything but `auth` (filled in from the JWT). */
  readonly request: RequestAttributes;
  readonly jwks: JwksCache;
  readonly pathNormalization: PathNormalization;
}

/**
 * The authenticate stage: CUSTOM first (Envoy's ext_authz filter sits ahead of jwt_authn in Istio's
 * waypoint chain), then RequestAuthentication.
 */
export async function authenticate(input: PolicyInput): Promise<Authenticated | PolicyDenial> {
  const custom = customChecksFor(input.authorization, input.request, { pathNormalization: input.pathNormalization });
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
  if (authn.kind === 'anonymous') return { kind: 'authenticated', headersToSet: {}, headersToRemove: [] };
  return {
    kind: 'authenticated',
    auth: authn.auth,
    ...(authn.auth.principal !== undefined ? { principal: authn.auth.principal } : {}),
    headersToSet: authn.headersToSet,
    headersToRemove: authn.headersToRemove,
  };
}

/** The authorise stage: DENY then ALLOW policies, with the JWT's request.auth.* (deny → 403). */
export function authorise(input: PolicyInput, authenticated: Authenticated): Allowed | PolicyDenial {
  const decision = evaluateL7(
    input.authorization,
    { ...input.request, ...(authenticated.auth ? { auth: authenticated.auth } : {}) },
    { pathNormalization: input.pathNormalization },
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
  return { kind: 'allow', decision };
}
