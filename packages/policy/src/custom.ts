// CUSTOM action: the external-authorizer hook. Istio consults the provider only when a CUSTOM policy's
// rules match; the provider must allow, and it cannot override DENY/ALLOW. Unknown provider, a thrown
// error or a timeout in the hook deny (fail closed) unless the authorizer says failOpen.
import type { RequestAttributes } from './attributes.ts';
import type { AuthzDecision, CustomCheck } from './decision.ts';
import { evaluateL7, type L7Options } from './evaluate.ts';
import type { AuthorizationPolicy } from './model.ts';

export interface ExternalAuthzResponse {
  readonly allowed: boolean;
  /** Status to send when denied (Envoy ext_authz default 403). */
  readonly status?: number;
  readonly headersToUpstream?: Readonly<Record<string, string>>;
  readonly headersToDownstream?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ExternalAuthorizer {
  check(
    request: RequestAttributes,
    context: { readonly provider: string; readonly policy: string },
  ): Promise<ExternalAuthzResponse>;
  /** meshConfig extension provider `failOpen`: allow when the check itself fails. Default false. */
  readonly failOpen?: boolean;
}

export interface AuthorizeOptions extends L7Options {
  /** Authorizers by provider name (meshConfig extensionProviders). */
  readonly authorizers?: Readonly<Record<string, ExternalAuthorizer>>;
}

export interface AuthorizeResult {
  readonly decision: AuthzDecision;
  /** What each consulted provider answered (by provider name). */
  readonly responses: Readonly<Record<string, ExternalAuthzResponse>>;
}

/** Which providers must be consulted for this request (pure; enforced CUSTOM policies whose rules match). */
export function customChecksFor(
  policies: readonly AuthorizationPolicy[],
  request: RequestAttributes,
  options: L7Options = {},
): readonly CustomCheck[] {
  const custom = policies.filter((policy) => policy.action === 'CUSTOM' && !policy.dryRun);
  if (custom.length === 0) return [];
  return evaluateL7(custom, request, { ...options, customResults: {} }).custom ?? [];
}

/** CUSTOM → DENY → ALLOW (AUDIT and dry-run reported), calling external authorizers as needed. Never throws. */
export async function authorizeRequest(
  policies: readonly AuthorizationPolicy[],
  request: RequestAttributes,
  options: AuthorizeOptions = {},
): Promise<AuthorizeResult> {
  const results: Record<string, 'allow' | 'deny'> = {};
  const responses: Record<string, ExternalAuthzResponse> = {};
  for (const check of customChecksFor(policies, request, options)) {
    if (check.provider in results) continue;
    const authorizer = options.authorizers?.[check.provider];
    if (!authorizer) {
      results[check.provider] = 'deny';
      continue;
    }
    try {
      const response = await authorizer.check(request, { provider: check.provider, policy: check.policy });
      responses[check.provider] = response;
      results[check.provider] = response.allowed ? 'allow' : 'deny';
    } catch {
      results[check.provider] = authorizer.failOpen ? 'allow' : 'deny';
    }
  }
  return { decision: evaluateL7(policies, request, { ...options, customResults: results }), responses };
}
