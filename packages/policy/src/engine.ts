// Matching one policy against prepared attributes, for ztunnel (L4) or the waypoint (L7), fast or traced.
import type { Prepared } from './attributes.ts';
import { compileCondition, type Test } from './compile.ts';
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
  /** Index into the per-policy cache of compiled forms. */
  readonly id: number;
  readonly layer: 'l4' | 'l7';
  /** 0 = use every condition, 1 = skip HTTP-only ones (TCP in a waypoint), 2 = skip non-L4 ones (ztunnel). */
  readonly skip: 0 | 1 | 2;
  /** Value of a match with no remaining conditions. */
  readonly emptyMatch: Tri;
}

const plans: readonly Plan[] = [
  { id: 0, layer: 'l4', skip: 2, emptyMatch: FALSE },
  { id: 1, layer: 'l4', skip: 2, emptyMatch: TRUE },
  { id: 2, layer: 'l7', skip: 0, emptyMatch: FALSE },
  { id: 3, layer: 'l7', skip: 0, emptyMatch: TRUE },
  { id: 4, layer: 'l7', skip: 1, emptyMatch: FALSE },
  { id: 5, layer: 'l7', skip: 1, emptyMatch: TRUE },
];

/** Why a policy takes no part in this layer (undefined = it does). */
export function notApplicable(policy: AuthorizationPolicy, layer: 'l4' | 'l7'): string | undefined {
  if (layer === 'l7') return undefined;
  if (policy.action === 'AUDIT' || policy.action === 'CUSTOM')
    return `ztunnel does not support the ${policy.action} action`;
  if (policy.attachment.kind === 'targetRefs')
    return 'targetRefs policies are enforced by waypoints, never sent to ztunnel';
  return undefined;
}

export function planFor(policy: AuthorizationPolicy, layer: 'l4' | 'l7', tcp: boolean, options: EvaluateOptions): Plan {
  const xdsSemantics = layer === 'l4' || policy.origin === 'xds';
  // Envoy: an empty permission/principal list is `any`; ztunnel: an empty match never matches.
  let empty = true;
  if (xdsSemantics) empty = policy.action !== 'ALLOW' && options.emptyDenyMatch !== 'never-match';
  const base = layer === 'l4' ? 0 : tcp ? 4 : 2;
  return plans[base + (empty ? 1 : 0)]!;
}

/** Why a rule takes no part (undefined = it does). */
export function ruleOmitted(policy: AuthorizationPolicy, rule: Rule, plan: Plan): string | undefined {
  if (rule.dropped) return rule.dropped;
  if (policy.action !== 'ALLOW') return undefined;
  if (plan.skip === 2 && rule.hasNonL4) return 'ALLOW rule uses HTTP attributes; istiod omits it for ztunnel';
  if (plan.skip === 1 && rule.hasHttpOnly) return 'ALLOW rule uses HTTP-only attributes and this is TCP traffic';
  return undefined;
}

export function skipped(condition: Condition, plan: Plan): boolean {
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

// ---- compiled form: the same logic as evalMatch/evalRule above, as closures built once per policy and plan ----

/** A matched rule's index (≥ 0), -1 for no match, or -2 - index when the first undecidable rule was `index`. */
type PolicyFn = (prepared: Prepared) => number;

const all = (tests: readonly Test[], empty: Tri): Test => {
  if (tests.length === 0) return () => empty;
  if (tests.length === 1) return tests[0]!;
  return (p) => {
    let result: Tri = TRUE;
    for (const test of tests) {
      const value = test(p);
      if (value === FALSE) return FALSE;
      if (value === UNKNOWN) result = UNKNOWN;
    }
    return result;
  };
};

const any = (tests: readonly Test[]): Test => {
  if (tests.length === 0) return () => TRUE; // a clause without matches holds
  if (tests.length === 1) return tests[0]!;
  return (p) => {
    let result: Tri = FALSE;
    for (const test of tests) {
      const value = test(p);
      if (value === TRUE) return TRUE;
      if (value === UNKNOWN) result = UNKNOWN;
    }
    return result;
  };
};

function compilePolicy(policy: AuthorizationPolicy, plan: Plan): PolicyFn {
  const rules = policy.rules
    .filter((rule) => !ruleOmitted(policy, rule, plan))
    .map((rule) => ({
      index: rule.index,
      test: all(
        rule.clauses.map((clause) =>
          any(
            clause.matches.map((match) =>
              all(match.conditions.filter((c) => !skipped(c, plan)).map(compileCondition), plan.emptyMatch),
            ),
          ),
        ),
        TRUE,
      ),
    }));
  return (p) => {
    let unknown = -1;
    for (const rule of rules) {
      const value = rule.test(p);
      if (value === TRUE) return rule.index;
      if (value === UNKNOWN && unknown === -1) unknown = rule.index;
    }
    return unknown === -1 ? -1 : -2 - unknown;
  };
}

// Compiled forms live on the policy object (a symbol slot: no lookup cost); frozen policies use a WeakMap.
const slot = Symbol('ambient-ts.policy.compiled');
const frozen = new WeakMap<AuthorizationPolicy, (PolicyFn | undefined)[]>();

function compiled(policy: AuthorizationPolicy, plan: Plan): PolicyFn {
  let cache = (policy as unknown as Record<symbol, (PolicyFn | undefined)[] | undefined>)[slot] ?? frozen.get(policy);
  if (!cache) {
    cache = new Array<PolicyFn | undefined>(plans.length);
    if (Object.isExtensible(policy)) Object.defineProperty(policy, slot, { value: cache, enumerable: false });
    else frozen.set(policy, cache);
  }
  return (cache[plan.id] ??= compilePolicy(policy, plan));
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
  const result = compiled(policy, plan)(prepared);
  if (result >= 0) return { matched: true, rule: result };
  if (result === -1) return noMatch;
  return resolve(policy, UNKNOWN, -2 - result, () => unusableReason(policy, prepared, plan));
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
        const conditions = match.conditions.map((condition): ConditionTrace => ({
          field: condition.field,
          attribute: condition.attribute,
          negated: condition.negated,
          values: describeValues(condition),
          actual: describeActual(condition, prepared),
          outcome: skipped(condition, plan) ? 'skipped' : outcome(evalCondition(condition, prepared)),
        }));
        const used = conditions.filter((condition) => condition.outcome !== 'skipped').length;
        return {
          field: match.field,
          outcome: outcome(evalMatch(match, prepared, plan)),
          empty: used === 0,
          conditions,
        };
      });
      const value = evalRule({ ...rule, clauses: [clause] }, prepared, plan);
      return { kind: clause.kind, field: clause.field, outcome: outcome(value), matches };
    });
    return { rule: rule.index, field: rule.field, outcome: outcome(evalRule(rule, prepared, plan)), clauses };
  });
}
