// Combining policy results into one decision, in Istio's order (CUSTOM → DENY → ALLOW; AUDIT apart;
// dry-run reported, never enforced), with ztunnel's reason strings.
import type { Prepared } from './attributes.ts';
import {
  emptyMatchNote,
  evalPolicy,
  notApplicable,
  planFor,
  type EvaluateOptions,
  type Plan,
  type PolicyResult,
} from './engine.ts';
import { admits, candidates, indexedSetFor, policyGuard, requestKeys } from './policy-set.ts';
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

interface Found {
  readonly policy: AuthorizationPolicy;
  readonly result: PolicyResult;
}

/** Accumulates one decision; a class (not closures over locals) keeps the per-policy loop cheap. */
class Decision {
  deny: Found | undefined = undefined;
  allow: Found | undefined = undefined;
  audit: AuthzDecision['audit'] = undefined;
  allowExists = false;
  dryAllowExists = false;
  dryTookPart = false;
  dryDeny = false;
  dryAllowMatched = false;
  readonly dryRun: DryRunMatch[] = [];
  readonly custom: CustomCheck[] = [];
  customDeny: CustomCheck | undefined = undefined;
  readonly ctx: Ctx;
  readonly customResults: CustomResults | undefined;

  constructor(ctx: Ctx, customResults: CustomResults | undefined) {
    this.ctx = ctx;
    this.customResults = customResults;
  }

  consider(policy: AuthorizationPolicy, plan: Plan): void {
    const prepared = this.ctx.prepared;
    if (policy.dryRun) {
      const result = evalPolicy(policy, prepared, plan);
      if (!result.matched) return;
      this.dryRun.push({ policy: policy.key, action: policy.action, rule: result.rule! });
      if (policy.action === 'DENY') this.dryDeny = true;
      if (policy.action === 'ALLOW') this.dryAllowMatched = true;
      return;
    }
    switch (policy.action) {
      case 'DENY': {
        if (this.deny) return;
        const result = evalPolicy(policy, prepared, plan);
        if (result.matched) this.deny = { policy, result };
        return;
      }
      case 'ALLOW': {
        if (this.allow) return;
        const result = evalPolicy(policy, prepared, plan);
        if (result.matched) this.allow = { policy, result };
        return;
      }
      case 'AUDIT': {
        if (this.audit) return;
        const result = evalPolicy(policy, prepared, plan);
        if (result.matched) this.audit = { policy: policy.key, rule: result.rule! };
        return;
      }
      case 'CUSTOM': {
        const result = evalPolicy(policy, prepared, plan);
        if (!result.matched) return;
        const provider = policy.provider ?? '';
        const check: CustomCheck = {
          policy: policy.key,
          provider,
          rule: result.rule!,
          result: this.customResults?.[provider],
        };
        this.custom.push(check);
        if (check.result !== 'allow' && !this.customDeny) this.customDeny = check;
        return;
      }
    }
  }

  /** Every applicable policy, in order (no index). */
  scan(policies: readonly AuthorizationPolicy[]): void {
    const { layer, tcp, options } = this.ctx;
    const l4 = layer === 'l4';
    const keys = requestKeys(this.ctx.prepared);
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i]!;
      if (l4 && notApplicable(policy, 'l4')) continue;
      if (policy.dryRun) {
        this.dryTookPart = true;
        if (policy.action === 'ALLOW') this.dryAllowExists = true;
      } else if (policy.action === 'ALLOW') this.allowExists = true;
      const plan = planFor(policy, layer, tcp, options);
      // The cached guard rules most policies out without running them.
      if (admits(policyGuard(policy, plan), keys)) this.consider(policy, plan);
    }
  }

  finish(): AuthzDecision {
    const { deny, allow, audit, custom, customDeny, ctx } = this;
    const base = { dryRun: this.dryRun, ...(audit && { audit }), ...(custom.length > 0 && { custom }) };
    const withDryRun = (verdict: 'allow' | 'deny') => {
      if (!this.dryTookPart) return {};
      const denied =
        verdict === 'deny' ||
        this.dryDeny ||
        ((this.allowExists || this.dryAllowExists) && !allow && !this.dryAllowMatched);
      return { dryRunVerdict: denied ? ('deny' as const) : ('allow' as const) };
    };
    if (customDeny) {
      const reason =
        customDeny.result === 'deny'
          ? `denied by external authorizer ${JSON.stringify(customDeny.provider)} (policy ${customDeny.policy})`
          : `external authorizer ${JSON.stringify(customDeny.provider)} required by ${customDeny.policy} was not consulted`;
      return {
        allowed: false,
        verdict: 'deny',
        reason,
        policy: customDeny.policy,
        rule: customDeny.rule,
        ...base,
        ...withDryRun('deny'),
      };
    }
    if (deny) {
      const failClosed =
        deny.result.failClosed ??
        emptyMatchNote(deny.policy, deny.result.rule!, planFor(deny.policy, ctx.layer, ctx.tcp, ctx.options));
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
    if (!this.allowExists)
      return { allowed: true, verdict: 'allow', reason: 'no allow policies apply', ...base, ...withDryRun('allow') };
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
    return {
      allowed: false,
      verdict: 'deny',
      reason: 'allow policies exist, but none allowed',
      ...base,
      ...withDryRun('deny'),
    };
  }
}

export function decide(
  policies: readonly AuthorizationPolicy[],
  ctx: Ctx,
  customResults: CustomResults | undefined,
): AuthzDecision {
  const decision = new Decision(ctx, customResults);
  const indexed = indexedSetFor(policies, ctx.layer, ctx.tcp, ctx.options);
  if (indexed) {
    decision.allowExists = indexed.allowExists;
    decision.dryAllowExists = indexed.dryAllowExists;
    decision.dryTookPart = indexed.dryTookPart;
    for (const index of candidates(indexed, ctx.prepared)) decision.consider(policies[index]!, indexed.plans[index]!);
  } else {
    decision.scan(policies);
  }
  return decision.finish();
}

export function internalErrorDecision(error: unknown): AuthzDecision {
  const message = error instanceof Error ? error.message : String(error);
  return { allowed: false, verdict: 'deny', reason: `internal error while evaluating policy: ${message}`, dryRun: [] };
}
