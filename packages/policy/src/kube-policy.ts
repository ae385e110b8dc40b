// Kubernetes-shaped `security.istio.io/v1` AuthorizationPolicy objects → the model, never throwing;
// `parseAuthorizationPolicy` is the strict variant that throws on the first error.
import { PolicyError } from './errors.ts';
import { compileRule } from './kube-rule.ts';
import {
  policyKey,
  type Attachment,
  type AuthorizationPolicy,
  type PolicyAction,
  type PolicyProblem,
  type Rule,
} from './model.ts';
import { describe, isRecord, problemLine, type Path } from './problems.ts';
import { readMetadata, readTargetAttachment } from './kube-meta.ts';

export interface LoadOptions {
  /** Namespace for objects without `metadata.namespace`; default "default". */
  readonly defaultNamespace?: string;
}

export interface Loaded<T> {
  readonly policy: T;
  readonly problems: readonly PolicyProblem[];
}

const actions: readonly PolicyAction[] = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'];
const specKeys = new Set(['selector', 'targetRef', 'targetRefs', 'action', 'provider', 'rules']);

/** What replaces a policy that cannot be understood as a whole, per action (never wider than intended). */
function failSafeRules(action: PolicyAction, field: string): { rules: Rule[]; effect: string } {
  if (action === 'ALLOW') {
    return { rules: [], effect: 'policy replaced by allow-nothing: an ALLOW that fails to load must not widen access' };
  }
  const everything: Rule = { index: 0, field, clauses: [], hasHttpOnly: false, hasNonL4: false };
  const what = action === 'DENY' ? 'deny-all' : action === 'AUDIT' ? 'audit-all' : 'external check on everything';
  return { rules: [everything], effect: `policy replaced by ${what} in its scope (fails closed)` };
}

/**
 * Load an AuthorizationPolicy object (already parsed from YAML/JSON). Never throws: every problem is
 * reported with its field, and the returned policy is fail-safe (see README "Bad input").
 */
export function loadAuthorizationPolicy(input: unknown, options: LoadOptions = {}): Loaded<AuthorizationPolicy> {
  const meta = readMetadata(input, 'AuthorizationPolicy', options.defaultNamespace ?? 'default');
  const problems = meta.problems;
  const { name, namespace } = meta;
  const raw = isRecord(input) ? input : {};
  const spec: Record<string, unknown> = isRecord(raw['spec']) ? raw['spec'] : {};
  const policyProblems: { path: Path; message: string }[] = [...meta.fatal];
  if (raw['spec'] !== undefined && raw['spec'] !== null && !isRecord(raw['spec'])) {
    policyProblems.push({ path: ['spec'], message: `\`spec\` must be an object, found ${describe(raw['spec'])}` });
  }
  for (const key of Object.keys(spec)) {
    if (!specKeys.has(key))
      policyProblems.push({ path: ['spec', key], message: `unknown field ${JSON.stringify(key)}` });
  }

  let action: PolicyAction = 'ALLOW';
  const rawAction = spec['action'];
  if (rawAction !== undefined && rawAction !== null) {
    if (typeof rawAction === 'string' && (actions as readonly string[]).includes(rawAction))
      action = rawAction as PolicyAction;
    else
      policyProblems.push({
        path: ['spec', 'action'],
        message: `unknown action ${describe(rawAction)} (expected ALLOW, DENY, AUDIT or CUSTOM)`,
      });
  }

  let provider: string | undefined;
  if (spec['provider'] !== undefined) {
    const rawProvider = spec['provider'];
    if (action !== 'CUSTOM')
      problems.warn(['spec', 'provider'], `\`provider\` must not be used with action ${action}`, 'ignored');
    else if (!isRecord(rawProvider) || typeof rawProvider['name'] !== 'string' || rawProvider['name'] === '') {
      problems.error(
        ['spec', 'provider', 'name'],
        '`provider.name` must not be empty',
        'no external authorizer can allow matching requests: they are denied (fails closed)',
      );
    } else provider = rawProvider['name'];
  } else if (action === 'CUSTOM') {
    problems.error(
      ['spec', 'provider'],
      '`provider.name` must not be empty',
      'no external authorizer can allow matching requests: they are denied (fails closed)',
    );
  }

  const target = readTargetAttachment(spec, namespace, problems);
  policyProblems.push(...target.fatal);
  const attachment: Attachment = target.attachment;

  let rules: Rule[] = [];
  const rawRules = spec['rules'];
  if (rawRules === undefined || rawRules === null) {
    if (action === 'DENY' || action === 'CUSTOM') {
      problems.warn(
        ['spec', 'rules'],
        `${action} action without \`rules\` never matches; add an empty rule \`{}\` to match every request`,
        'the policy never matches',
      );
    }
  } else if (!Array.isArray(rawRules)) {
    policyProblems.push({ path: ['spec', 'rules'], message: `\`rules\` must be a list, found ${describe(rawRules)}` });
  } else {
    if (rawRules.length > 512) problems.warn(['spec', 'rules'], 'Istio allows at most 512 rules per policy');
    rules = rawRules.map((rule: unknown, index) =>
      compileRule(rule, index, ['spec', 'rules'], problems, action, namespace),
    );
  }

  if (policyProblems.length > 0) {
    const fallback = failSafeRules(action, 'spec');
    for (const problem of policyProblems) problems.error(problem.path, problem.message, fallback.effect);
    rules = fallback.rules;
  }

  const policy: AuthorizationPolicy = {
    kind: 'AuthorizationPolicy',
    key: policyKey(namespace, name),
    name,
    namespace,
    action,
    ...(provider !== undefined && { provider }),
    dryRun: meta.dryRun,
    attachment,
    rules,
    origin: 'kubernetes',
    problems: problems.list,
  };
  return { policy, problems: problems.list };
}

/** Strict: like loadAuthorizationPolicy, but throws `INVALID_POLICY` naming the policy and field of the first error. */
export function parseAuthorizationPolicy(input: unknown, options: LoadOptions = {}): AuthorizationPolicy {
  const { policy, problems } = loadAuthorizationPolicy(input, options);
  throwOnErrors(problems, 'AuthorizationPolicy');
  return policy;
}

export function throwOnErrors(problems: readonly PolicyProblem[], kind: string): void {
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length === 0) return;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  throw new PolicyError('INVALID_POLICY', `invalid ${kind} ${problemLine(errors[0]!)}${more}`);
}
