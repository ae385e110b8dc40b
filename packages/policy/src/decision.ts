// Combining policy results into one decision, in Istio's order (CUSTOM → DENY → ALLOW; AUDIT apart;
// dry-run reported, never enforced), with ztunnel's reason strings.
import type { Prepared } from './attributes.ts';
import { emptyMatchNote, evalPolicy, notApplicable, planFor, type EvaluateOptions, type PolicyResult } from './engine.ts';
import type { AuthorizationPolicy, PolicyAction } from './model.ts';

export interface DryRunMatch {
  readonly policy: string;
  readonly action: PolicyAction;
  readonly rule: number;
}

export interface CustomCheck {
  readonly policy: string;
  readonly provider: string;
  readonly rule: number;
  /** What the external authorizer said; undefined when it was not consulted (then the request is denied). */
  readonly result?: 'allow' | 'deny';
}

export interface AuthzDecision {
  readonly allowed: boolean;
  readonly verdict: 'allow' | 'deny';
  /** ztunnel's words where it has them: `explicitly denied by: ns/name`, `allow policies exist, but none allowed`. */
  readonly reason: string;
  /** The deciding policy (`ns/name`) and rule index: the matching DENY, or the matching ALLOW. */
  readonly policy?: string;
  readonly rule?: number;
  /** An AUDIT policy matched (never changes the verdict). */
  readonly audit?: { readonly policy: string; readonly rule: number };
  /** Dry-run policies that matched (evaluated, not enforced). */
  readonly dryRun: readonly DryRunMatch[];
  /** The verdict if the dry-run policies were enforced too; only when dry-run policies took part. */
  readonly dryRunVerdict?: 'allow' | 'deny';
  /** CUSTOM (ext-authz) policies whose rules matched, and what their providers said. */
  readonly custom?: readonly CustomCheck[];
  /** Set when an attribute that could not be evaluated decided the outcome (fail closed). */
  readonly failClosed?: string;
}

export type CustomResults = Readonly<Record<string, 'allow' | 'deny'>>;

interface Ctx {
  readonly prepared: Prepared;
  readonly layer: 'l4' | 'l7';
  readonly tcp: boolean;
  readonly options: EvaluateOptions;
}

function run(policy: AuthorizationPolicy, ctx: Ctx): PolicyResult {
  return evalPolicy(policy, ctx.prepared, planFor(policy, ctx.layer, ctx.tcp, ctx.options));
}

export function decide(
  policies: readonly AuthorizationPolicy[],
  ctx: Ctx,
  customResults: CustomResults | undefined,
): AuthzDecision {
  let deny: { policy: AuthorizationPolicy; result: PolicyResult } | undefined;
  let allow: { policy: AuthorizationPolicy; result: PolicyResult } | undefined;
  let audit: AuthzDecision['audit'];
  let allowExists = false;
  let dryAllowExists = false;
  let dryTookPart = false;
  let dryDeny = false;
  let dryAllowMatched = false;
  let failClosed: string | undefined;
  const dryRun: DryRunMatch[] = [];
  const custom: CustomCheck[] = [];
  let customDeny: CustomCheck | undefined;

  for (const policy of policies) {
    if (notApplicable(policy, ctx.layer)) continue;
    if (policy.dryRun) {
      dryTookPart = true;
      if (policy.action === 'ALLOW') dryAllowExists = true;
      const result = run(policy, ctx);
      if (!result.matched) continue;
      dryRun.push({ policy: policy.key, action: policy.action, rule: result.rule! });
      if (policy.action === 'DENY') dryDeny = true;
      if (policy.action === 'ALLOW') dryAllowMatched = true;
      continue;
    }
    switch (policy.action) {
      case 'DENY': {
        if (deny) break;
        const result = run(policy, ctx);
        if (result.matched) deny = { policy, result };
        break;
      }
      case 'ALLOW': {
        allowExists = true;
        if (allow) break;
        const result = run(policy, ctx);
        if (result.matched) allow = { policy, result };
        break;
      }
      case 'AUDIT': {
        if (audit) break;
        const result = run(policy, ctx);
        if (result.matched) audit = { policy: policy.key, rule: result.rule! };
        break;
      }
      case 'CUSTOM': {
        const result = run(policy, ctx);
        if (!result.matched) break;
        const provider = policy.provider ?? '';
        const check: CustomCheck = { policy: policy.key, provider, rule: result.rule!, result: customResults?.[provider] };
        custom.push(check);
        if (check.result !== 'allow' && !customDeny) customDeny = check;
        break;
      }
    }
  }

  const base = {
    dryRun,
    ...(audit && { audit }),
    ...(custom.length > 0 && { custom }),
  };
  const withDryRun = (verdict: 'allow' | 'deny') => {
    if (!dryTookPart) return {};
    const denied = verdict === 'deny' || dryDeny || ((allowExists || dryAllowExists) && !allow && !dryAllowMatched);
    return { dryRunVerdict: denied ? ('deny' as const) : ('allow' as const) };
  };

  if (customDeny) {
    const reason =
      customDeny.result === 'deny'
        ? `denied by external authorizer ${JSON.stringify(customDeny.provider)} (policy ${customDeny.policy})`
        : `external authorizer ${JSON.stringify(customDeny.provider)} required by ${customDeny.policy} was not consulted`;
    return { allowed: false, verdict: 'deny', reason, policy: customDeny.policy, rule: customDeny.rule, ...base, ...withDryRun('deny') };
  }
  if (deny) {
    failClosed =
      deny.result.failClosed ?? emptyMatchNote(deny.policy, deny.result.rule!, planFor(deny.policy, ctx.layer, ctx.tcp, ctx.options));
    return {
      allowed: false,
      verdict: 'deny',
      reason: `explicitly denied by: ${deny.policy.key}`,
      policy: deny.policy.key,
      rule: deny.result.rule!,
      ...base,
      ...withDryRun('deny'),
      ...(failClosed && { failClosed }),
    };
  }
  if (!allowExists) {
    return { allowed: true, verdict: 'allow', reason: 'no allow policies apply', ...base, ...withDryRun('allow') };
  }
  if (allow) {
    return {
      allowed: true,
      verdict: 'allow',
      reason: `allowed by: ${allow.policy.key}`,
      policy: allow.policy.key,
      rule: allow.result.rule!,
      ...base,
      ...withDryRun('allow'),
    };
  }
  return { allowed: false, verdict: 'deny', reason: 'allow policies exist, but none allowed', ...base, ...withDryRun('deny') };
}

export function internalErrorDecision(error: unknown): AuthzDecision {
  const message = error instanceof Error ? error.message : String(error);
  return { allowed: false, verdict: 'deny', reason: `internal error while evaluating policy: ${message}`, dryRun: [] };
}
