// Matching one policy against prepared attributes, for ztunnel (L4) or the waypoint (L7), fast or traced.
import type { Prepared } from './attributes.ts';
import { describeActual, describeValues, evalCondition, FALSE, TRUE, UNKNOWN, type Tri } from './condition.ts';
import type { AuthorizationPolicy, Condition, Match, Rule } from './model.ts';

export interface EvaluateOptions {
  /**
   * A DENY rule whose match lost all its conditions (istiod's translation of an L7-only DENY rule, or
   * values dropped as invalid): 'match' (default) treats it as matching everything, failing closed
   * (users-reliability B8 #16); 'never-match' copies ztunnel exactly (istio/istio#61126: not enforced).
   */
  readonly emptyDenyMatch?: 'match' | 'never-match';
}

/** How one policy is read in one layer. */
export interface Plan {
  readonly layer: 'l4' | 'l7';
  /** 0 = use every condition, 1 = skip HTTP-only ones (TCP in a waypoint), 2 = skip non-L4 ones (ztunnel). */
  readonly skip: 0 | 1 | 2;
  /** Value of a match with no remaining conditions. */
  readonly emptyMatch: Tri;
}

/** Why a policy takes no part in this layer (undefined = it does). */
export function notApplicable(policy: AuthorizationPolicy, layer: 'l4' | 'l7'): string | undefined {
  if (layer === 'l7') return undefined;
  if (policy.action === 'AUDIT' || policy.action === 'CUSTOM') return `ztunnel does not support the ${policy.action} action`;
  if (policy.attachment.kind === 'targetRefs') return 'targetRefs policies are enforced by waypoints, never sent to ztunnel';
  return undefined;
}

export function planFor(policy: AuthorizationPolicy, layer: 'l4' | 'l7', tcp: boolean, options: EvaluateOptions): Plan {
  const xdsSemantics = layer === 'l4' || policy.origin === 'xds';
  let emptyMatch: Tri = TRUE; // Envoy: an empty permission/principal list is `any`
  if (xdsSemantics) {
    emptyMatch = policy.action === 'ALLOW' ? FALSE : options.emptyDenyMatch === 'never-match' ? FALSE : TRUE;
  }
  return { layer, skip: layer === 'l4' ? 2 : tcp ? 1 : 0, emptyMatch };
}

/** Why a rule takes no part (undefined = it does). */
export function ruleOmitted(policy: AuthorizationPolicy, rule: Rule, plan: Plan): string | undefined {
  if (rule.dropped) return rule.dropped;
  if (policy.action !== 'ALLOW') return undefined;
  if (plan.skip === 2 && rule.hasNonL4) return 'ALLOW rule uses HTTP attributes; istiod omits it for ztunnel';
  if (plan.skip === 1 && rule.hasHttpOnly) return 'ALLOW rule uses HTTP-only attributes and this is TCP traffic';
  return undefined;
}

function skipped(condition: Condition, plan: Plan): boolean {
  return plan.skip === 2 ? !condition.l4 : plan.skip === 1 && condition.httpOnly;
}

function evalMatch(match: Match, prepared: Prepared, plan: Plan): Tri {
  let result: Tri = TRUE;
  let used = 0;
  for (const condition of match.conditions) {
    if (plan.skip !== 0 && skipped(condition, plan)) continue;
    used++;
    const value = evalCondition(condition, prepared);
    if (value === FALSE) return FALSE;
    if (value === UNKNOWN) result = UNKNOWN;
  }
  return used === 0 ? plan.emptyMatch : result;
}

function evalRule(rule: Rule, prepared: Prepared, plan: Plan): Tri {
  let result: Tri = TRUE;
  for (const clause of rule.clauses) {
    let clauseResult: Tri = clause.matches.length === 0 ? TRUE : FALSE;
    for (const match of clause.matches) {
      const value = evalMatch(match, prepared, plan);
      if (value === TRUE) {
        clauseResult = TRUE;
        break;
      }
      if (value === UNKNOWN) clauseResult = UNKNOWN;
    }
    if (clauseResult === FALSE) return FALSE;
    if (clauseResult === UNKNOWN) result = UNKNOWN;
  }
  return result;
}

export interface PolicyResult {
  /** The policy's rules matched (UNKNOWN already resolved by action: fail closed). */
  readonly matched: boolean;
  readonly rule?: number;
  /** Set when the match was decided by an attribute that could not be evaluated. */
  readonly failClosed?: string;
}

const noMatch: PolicyResult = { matched: false };

/** Resolve UNKNOWN: an ALLOW cannot grant on it; DENY/AUDIT/CUSTOM apply (the restrictive side). */
function resolve(policy: AuthorizationPolicy, result: Tri, rule: number, why: () => string): PolicyResult {
  if (result === TRUE) return { matched: true, rule };
  if (result === FALSE || policy.action === 'ALLOW') return noMatch;
  return { matched: true, rule, failClosed: why() };
}

export function evalPolicy(policy: AuthorizationPolicy, prepared: Prepared, plan: Plan): PolicyResult {
  let unknownRule = -1;
  for (const rule of policy.rules) {
    if (ruleOmitted(policy, rule, plan)) continue;
    const value = evalRule(rule, prepared, plan);
    if (value === TRUE) return { matched: true, rule: rule.index };
    if (value === UNKNOWN && unknownRule === -1) unknownRule = rule.index;
  }
  if (unknownRule === -1) return noMatch;
  return resolve(policy, UNKNOWN, unknownRule, () => unusableReason(policy, prepared, plan));
}

/**
 * When a DENY matched only because a match had no conditions left in this layer (istiod's translation of
 * an L7-only DENY rule for ztunnel), say so: it is enforced here on purpose (fail closed).
 */
export function emptyMatchNote(policy: AuthorizationPolicy, ruleIndex: number, plan: Plan): string | undefined {
  if (policy.action === 'ALLOW' || plan.emptyMatch !== TRUE) return undefined;
  const rule = policy.rules.find((candidate) => candidate.index === ruleIndex);
  if (!rule) return undefined;
  for (const clause of rule.clauses) {
    for (const match of clause.matches) {
      if (match.conditions.every((condition) => skipped(condition, plan))) {
        const where = plan.layer === 'l4' ? 'ztunnel' : 'TCP traffic';
        return `${policy.key} ${match.field}: no conditions ${where} can check remain (HTTP-only or dropped); the DENY applies to all traffic it covers (fail closed)`;
      }
    }
  }
  return undefined;
}

function unusableReason(policy: AuthorizationPolicy, prepared: Prepared, plan: Plan): string {
  for (const rule of policy.rules) {
    for (const clause of rule.clauses) {
      for (const match of clause.matches) {
        for (const condition of match.conditions) {
          if (skipped(condition, plan) || evalCondition(condition, prepared) !== UNKNOWN) continue;
          return `${policy.key} ${condition.field}: ${describeActual(condition, prepared)}`;
        }
      }
    }
  }
  return `${policy.key}: an attribute could not be evaluated`;
}

// ---- traced evaluation, for explain() ----

export type Outcome = 'match' | 'no-match' | 'unknown';

const outcome = (value: Tri): Outcome => (value === TRUE ? 'match' : value === FALSE ? 'no-match' : 'unknown');

export interface ConditionTrace {
  readonly field: string;
  readonly attribute: string;
  readonly negated: boolean;
  readonly values: readonly string[];
  readonly actual: string;
  /** `skipped` = not part of this layer's view (HTTP-only on TCP, or not in ztunnel's L4 form). */
  readonly outcome: Outcome | 'skipped';
}

export interface MatchTrace {
  readonly field: string;
  readonly outcome: Outcome;
  /** No conditions left: the outcome comes from the empty-match rule of this layer. */
  readonly empty: boolean;
  readonly conditions: readonly ConditionTrace[];
}

export interface ClauseTrace {
  readonly kind: string;
  readonly field: string;
  readonly outcome: Outcome;
  readonly matches: readonly MatchTrace[];
}

export interface RuleTrace {
  readonly rule: number;
  readonly field: string;
  readonly outcome: Outcome | 'omitted';
  readonly omitted?: string;
  readonly clauses: readonly ClauseTrace[];
}

export function traceRules(policy: AuthorizationPolicy, prepared: Prepared, plan: Plan): RuleTrace[] {
  return policy.rules.map((rule) => {
    const omitted = ruleOmitted(policy, rule, plan);
    if (omitted) return { rule: rule.index, field: rule.field, outcome: 'omitted', omitted, clauses: [] };
    const clauses = rule.clauses.map((clause): ClauseTrace => {
      const matches = clause.matches.map((match): MatchTrace => {
        const conditions = match.conditions.map(
          (condition): ConditionTrace => ({
            field: condition.field,
            attribute: condition.attribute,
            negated: condition.negated,
            values: describeValues(condition),
            actual: describeActual(condition, prepared),
            outcome: skipped(condition, plan) ? 'skipped' : outcome(evalCondition(condition, prepared)),
          }),
        );
        const used = conditions.filter((condition) => condition.outcome !== 'skipped').length;
        return { field: match.field, outcome: outcome(evalMatch(match, prepared, plan)), empty: used === 0, conditions };
      });
      const value = evalRule({ ...rule, clauses: [clause] }, prepared, plan);
      return { kind: clause.kind, field: clause.field, outcome: outcome(value), matches };
    });
    return { rule: rule.index, field: rule.field, outcome: outcome(evalRule(rule, prepared, plan)), clauses };
  });
}
