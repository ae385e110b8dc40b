// AuthorizationPolicy → the L4 `istio.security.Authorization` ztunnel receives, translated the way istiod
// does (istio/istio pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go):
// targetRefs policies and AUDIT/CUSTOM are not sent; selector-less policies are GLOBAL in the root
// namespace and NAMESPACE elsewhere, selector policies WORKLOAD_SELECTOR; an ALLOW rule with any HTTP
// attribute is omitted entirely; a DENY rule keeps its L4 parts (an L7-only part becomes an empty match).
import type { AuthorizationPolicy, Clause, Condition, Rule, StringMatcher, XdsScope } from './model.ts';
import type { security } from '@ambient-ts/istio-api';
import { XDS_MATCH_ATTRIBUTES } from './xds-from.ts';

export interface ToXdsOptions {
  /** Istio's root namespace (meshConfig rootNamespace, usually istio-system). */
  readonly rootNamespace: string;
}

export interface ZtunnelTranslation {
  /** undefined: the policy is not for ztunnel (targetRefs, AUDIT, CUSTOM). */
  readonly authorization: security.Authorization | undefined;
  /** What the translation left out, one line each. */
  readonly dropped: readonly string[];
  /** istiod's status condition for the policy, when it reports one. */
  readonly status?: { readonly reason: 'UnsupportedValue'; readonly message: string };
}

function stringMatch(matcher: StringMatcher): security.StringMatch {
  return matcher.kind === 'presence' ? { presence: {} } : { [matcher.kind]: matcher.value };
}

function address(cidr: { bytes: Uint8Array; prefixLength: number }): security.Address {
  const out: { address: string; length?: number } = { address: Buffer.from(cidr.bytes).toString('base64') };
  if (cidr.prefixLength !== 0) out.length = cidr.prefixLength;
  return out;
}

const xdsField: Record<string, string> = Object.fromEntries(
  XDS_MATCH_ATTRIBUTES.map(([field, attribute]) => [attribute, field]),
);

function fieldName(condition: Condition): string {
  const base = xdsField[condition.attribute]!;
  return condition.negated ? `not${base[0]!.toUpperCase()}${base.slice(1)}` : base;
}

function matchValues(condition: Condition): unknown[] {
  switch (condition.attribute) {
    case 'source.namespace':
    case 'source.principal':
      return condition.values.map(stringMatch);
    case 'source.serviceAccount':
      return condition.values.map((sa) => ({ namespace: sa.namespace, serviceAccount: sa.serviceAccount }));
    case 'source.ip':
    case 'destination.ip':
      return condition.values.map(address);
    case 'destination.port':
      return [...condition.values];
    default:
      return [];
  }
}

function toMatch(conditions: readonly Condition[]): security.Match {
  const out: Record<string, unknown[]> = {};
  for (const condition of conditions) {
    if (!condition.l4 || !(condition.attribute in xdsField)) continue;
    const name = fieldName(condition);
    out[name] = [...(out[name] ?? []), ...matchValues(condition)];
  }
  return out as security.Match;
}

function toClause(clause: Clause): security.Clause {
  const matches = clause.matches.map((match) => toMatch(match.conditions));
  return matches.length > 0 ? { matches } : {};
}

/** istiod emits `to` first, then `from`, then one clause per `when` condition. */
function orderClauses(clauses: readonly Clause[]): Clause[] {
  const rank = { to: 0, from: 1, when: 2, xds: 3 } as const;
  return [...clauses].sort((a, b) => rank[a.kind] - rank[b.kind]);
}

function httpFields(rule: Rule): string[] {
  const names = new Set<string>();
  for (const clause of rule.clauses) {
    for (const match of clause.matches) {
      for (const condition of match.conditions) {
        if (condition.l4) continue;
        const last = condition.field.split('.').pop() ?? condition.field;
        names.add(clause.kind === 'when' ? condition.attribute : last.replace(/\[\d+\]$/, ''));
      }
    }
  }
  return [...names].sort();
}

function scopeOf(policy: AuthorizationPolicy, rootNamespace: string): XdsScope {
  if (policy.attachment.kind === 'xds') return policy.attachment.scope;
  if (policy.attachment.kind === 'selector') return 'WORKLOAD_SELECTOR';
  return policy.namespace === rootNamespace ? 'GLOBAL' : 'NAMESPACE';
}

/** The translation with notes on what was dropped and istiod's status message. */
export function translateForZtunnel(policy: AuthorizationPolicy, options: ToXdsOptions): ZtunnelTranslation {
  if (policy.attachment.kind === 'targetRefs') {
    return {
      authorization: undefined,
      dropped: ['targetRefs policies are enforced by waypoints and never sent to ztunnel'],
    };
  }
  if (policy.action !== 'ALLOW' && policy.action !== 'DENY') {
    const message = `ztunnel does not support the ${policy.action} action`;
    return { authorization: undefined, dropped: [message], status: { reason: 'UnsupportedValue', message } };
  }
  const dropped: string[] = [];
  const found = new Set<string>();
  const rules: security.Rule[] = [];
  for (const rule of policy.rules) {
    if (rule.dropped) {
      dropped.push(`${rule.field}: ${rule.dropped}`);
      continue;
    }
    const http = httpFields(rule);
    for (const name of http) found.add(name);
    if (policy.action === 'ALLOW' && http.length > 0) {
      dropped.push(
        `${rule.field}: omitted (HTTP attributes ${http.join(', ')}; an ALLOW rule ztunnel cannot check never matches)`,
      );
      continue;
    }
    if (http.length > 0)
      dropped.push(`${rule.field}: HTTP attributes ${http.join(', ')} dropped; the L4 parts are enforced`);
    const clauses = orderClauses(rule.clauses).map(toClause);
    rules.push(clauses.length > 0 ? { clauses } : {});
  }
  const scope = scopeOf(policy, options.rootNamespace);
  const authorization: security.Authorization = {
    name: policy.name,
    namespace: policy.namespace,
    ...(scope !== 'GLOBAL' && { scope }),
    ...(policy.action === 'DENY' && { action: 'DENY' as const }),
    ...(rules.length > 0 && { rules }),
    ...(policy.dryRun && { dryRun: true }),
  };
  if (found.size === 0) return { authorization, dropped };
  const boilerplate =
    policy.action === 'DENY'
      ? 'DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested.'
      : 'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.';
  const message =
    `ztunnel does not support HTTP attributes (found: ${[...found].sort().join(', ')}). ` +
    `In ambient mode you must use a waypoint proxy to enforce HTTP rules. ${boilerplate}`;
  return { authorization, dropped, status: { reason: 'UnsupportedValue', message } };
}

/** The proto3-JSON `istio.security.Authorization` for ztunnel, or undefined when ztunnel gets nothing. */
export function toXdsAuthorization(
  policy: AuthorizationPolicy,
  options: ToXdsOptions,
): security.Authorization | undefined {
  return translateForZtunnel(policy, options).authorization;
}
