// Public evaluators: ztunnel's L4 decision and the waypoint's L7 decision, plus their explanations.
// They take the applicable policies (selection is the caller's) and plain attributes, and never throw.
import {
  prepareConnection,
  prepareRequest,
  type L4Connection,
  type Prepared,
  type RequestAttributes,
} from './attributes.ts';
import { decide, internalErrorDecision, type AuthzDecision, type CustomResults } from './decision.ts';
import { evalPolicy, notApplicable, planFor, traceRules, type EvaluateOptions, type RuleTrace } from './engine.ts';
import type { AuthorizationPolicy, PolicyAction } from './model.ts';
import type { PathNormalization } from './path.ts';

export interface L7Options extends EvaluateOptions {
  /** meshConfig pathNormalization; default BASE (RFC 3986). */
  readonly pathNormalization?: PathNormalization;
  /** Results of the external authorizers (by provider name) for matching CUSTOM policies. */
  readonly customResults?: CustomResults;
}

/** ztunnel's inbound check: DENY first, then ALLOW; allowed when no ALLOW policy applies. */
export function evaluateL4(
  policies: readonly AuthorizationPolicy[],
  connection: L4Connection,
  options: EvaluateOptions = {},
): AuthzDecision {
  try {
    return decide(policies, { prepared: prepareConnection(connection), layer: 'l4', tcp: true, options }, undefined);
  } catch (error) {
    return internalErrorDecision(error);
  }
}

/** The waypoint's check: CUSTOM (results supplied), DENY, ALLOW; AUDIT reported; dry-run reported. */
export function evaluateL7(
  policies: readonly AuthorizationPolicy[],
  request: RequestAttributes,
  options: L7Options = {},
): AuthzDecision {
  try {
    const prepared = prepareRequest(request, options.pathNormalization);
    return decide(
      policies,
      { prepared, layer: 'l7', tcp: prepared.protocol === 'tcp', options },
      options.customResults,
    );
  } catch (error) {
    return internalErrorDecision(error);
  }
}

export interface PolicyTrace {
  readonly policy: string;
  readonly action: PolicyAction;
  readonly dryRun: boolean;
  /** `not-applicable`: this layer never evaluates it (e.g. AUDIT or targetRefs at ztunnel). */
  readonly outcome: 'matched' | 'not-matched' | 'not-applicable';
  readonly reason?: string;
  readonly rule?: number;
  readonly failClosed?: string;
  readonly rules: readonly RuleTrace[];
  /** Problems found when the policy was loaded (and what was done about them). */
  readonly problems: readonly string[];
}

export interface Explanation {
  readonly decision: AuthzDecision;
  readonly policies: readonly PolicyTrace[];
}

function explainWith(
  policies: readonly AuthorizationPolicy[],
  prepared: Prepared,
  layer: 'l4' | 'l7',
  decision: AuthzDecision,
  options: EvaluateOptions,
): Explanation {
  const tcp = prepared.protocol === 'tcp';
  const traces = policies.map((policy): PolicyTrace => {
    const problems = policy.problems.map((problem) => `${problem.field}: ${problem.message} (${problem.effect})`);
    const common = { policy: policy.key, action: policy.action, dryRun: policy.dryRun, problems };
    const skip = notApplicable(policy, layer);
    if (skip) return { ...common, outcome: 'not-applicable', reason: skip, rules: [] };
    const plan = planFor(policy, layer, tcp, options);
    const result = evalPolicy(policy, prepared, plan);
    const rules = traceRules(policy, prepared, plan);
    if (policy.rules.length === 0) {
      return { ...common, outcome: 'not-matched', reason: 'policy has no rules: it never matches', rules };
    }
    return {
      ...common,
      outcome: result.matched ? 'matched' : 'not-matched',
      ...(result.rule !== undefined && { rule: result.rule }),
      ...(result.failClosed && { failClosed: result.failClosed }),
      rules,
    };
  });
  return { decision, policies: traces };
}

/** evaluateL4 plus the per-policy, per-rule, per-condition trace. */
export function explainL4(
  policies: readonly AuthorizationPolicy[],
  connection: L4Connection,
  options: EvaluateOptions = {},
): Explanation {
  const decision = evaluateL4(policies, connection, options);
  try {
    return explainWith(policies, prepareConnection(connection), 'l4', decision, options);
  } catch (error) {
    return { decision: internalErrorDecision(error), policies: [] };
  }
}

/** evaluateL7 plus the per-policy, per-rule, per-condition trace. */
export function explainL7(
  policies: readonly AuthorizationPolicy[],
  request: RequestAttributes,
  options: L7Options = {},
): Explanation {
  const decision = evaluateL7(policies, request, options);
  try {
    return explainWith(policies, prepareRequest(request, options.pathNormalization), 'l7', decision, options);
  } catch (error) {
    return { decision: internalErrorDecision(error), policies: [] };
  }
}

/** Render an explanation as indented text, for logs and a `why was this denied` command. */
export function formatExplanation(explanation: Explanation): string {
  const lines = [`${explanation.decision.verdict.toUpperCase()}: ${explanation.decision.reason}`];
  if (explanation.decision.failClosed) lines.push(`  fail-closed: ${explanation.decision.failClosed}`);
  for (const trace of explanation.policies) {
    const tags = [trace.action, trace.dryRun ? 'dry-run' : ''].filter(Boolean).join(', ');
    const rule = trace.rule !== undefined ? ` (rule ${trace.rule})` : '';
    lines.push(`  ${trace.policy} [${tags}]: ${trace.outcome}${rule}${trace.reason ? ` — ${trace.reason}` : ''}`);
    for (const problem of trace.problems) lines.push(`    problem: ${problem}`);
    for (const ruleTrace of trace.rules) {
      lines.push(
        `    rules[${ruleTrace.rule}]: ${ruleTrace.outcome}${ruleTrace.omitted ? ` — ${ruleTrace.omitted}` : ''}`,
      );
      for (const clause of ruleTrace.clauses) {
        for (const match of clause.matches) {
          if (match.empty) lines.push(`      ${match.field}: ${match.outcome} (no conditions left in this layer)`);
          for (const condition of match.conditions) {
            const op = condition.negated ? 'not in' : 'in';
            lines.push(
              `      ${condition.field}: ${condition.actual} ${op} [${condition.values.join(', ')}] → ${condition.outcome}`,
            );
          }
        }
      }
    }
  }
  return lines.join('\n');
}
