// An index over a list of policies so that a decision only evaluates policies that could match.
// Each rule gets a guard when one of its clauses needs an exact principal, namespace, port or method
// in every branch; the list is indexed by those values. Candidates are evaluated in the original order,
// so decisions (and the policy they name) are exactly those of a full scan. Built only for lists seen
// twice (callers that keep their selected array get the index; fresh arrays pay nothing extra).
import type { Prepared } from './attributes.ts';
import { notApplicable, planFor, ruleOmitted, skipped, type EvaluateOptions, type Plan } from './engine.ts';
import type { AuthorizationPolicy, Condition, Rule } from './model.ts';

type GuardAttr = 'principal' | 'namespace' | 'port' | 'method';
const guardOrder: readonly GuardAttr[] = ['principal', 'namespace', 'port', 'method'];
type Key = string | number;

export interface IndexedSet {
  readonly plans: readonly Plan[];
  readonly applicable: Uint8Array;
  readonly allowExists: boolean;
  readonly dryAllowExists: boolean;
  readonly dryTookPart: boolean;
  /** Policies that must always be evaluated, ascending. */
  readonly always: readonly number[];
  readonly maps: Readonly<Record<GuardAttr, Map<Key, number[]>>>;
  /** Every policy guarded on the attribute (used when the request's value cannot be evaluated). */
  readonly guarded: Readonly<Record<GuardAttr, number[]>>;
}

function guardAttr(condition: Condition): GuardAttr | undefined {
  switch (condition.attribute) {
    case 'source.principal':
      return 'principal';
    case 'source.namespace':
      return 'namespace';
    case 'destination.port':
      return 'port';
    case 'request.method':
      return 'method';
    default:
      return undefined;
  }
}

function exactKeys(condition: Condition): Key[] | undefined {
  if (condition.negated) return undefined;
  if (condition.attribute === 'destination.port') return [...condition.values];
  const values = condition.values as readonly { kind?: string; value?: string }[];
  if (!values.every((value) => value.kind === 'exact')) return undefined;
  return values.map((value) => value.value!);
}

/** A necessary condition for the rule, or 'any' when none is cheap to state. */
function ruleGuard(rule: Rule, plan: Plan): { attr: GuardAttr; keys: Key[] } | 'any' {
  for (const attr of guardOrder) {
    for (const clause of rule.clauses) {
      if (clause.matches.length === 0) continue;
      const keys: Key[] = [];
      let guarded = true;
      for (const match of clause.matches) {
        const conditions = match.conditions.filter((condition) => !skipped(condition, plan));
        if (conditions.length === 0) {
          if (plan.emptyMatch === 0) continue; // this branch can never hold
          guarded = false;
          break;
        }
        const found = conditions
          .map((c) => (guardAttr(c) === attr ? exactKeys(c) : undefined))
          .find((k) => k !== undefined);
        if (!found) {
          guarded = false;
          break;
        }
        keys.push(...found);
      }
      if (guarded) return { attr, keys };
    }
  }
  return 'any';
}

/** What must hold for a policy to possibly match: nothing ('any'), never, or one of some attribute values. */
export type PolicyGuard =
  | { readonly kind: 'any' }
  | { readonly kind: 'never' }
  | { readonly kind: 'keys'; readonly sets: Readonly<Partial<Record<GuardAttr, ReadonlySet<Key>>>> };

const anyGuard: PolicyGuard = { kind: 'any' };
const neverGuard: PolicyGuard = { kind: 'never' };

function computeGuard(policy: AuthorizationPolicy, plan: Plan): PolicyGuard {
  const guards = policy.rules.filter((rule) => !ruleOmitted(policy, rule, plan)).map((rule) => ruleGuard(rule, plan));
  if (guards.length === 0) return neverGuard;
  if (guards.includes('any')) return anyGuard;
  const sets: Partial<Record<GuardAttr, Set<Key>>> = {};
  for (const guard of guards as { attr: GuardAttr; keys: Key[] }[]) {
    const set = (sets[guard.attr] ??= new Set());
    for (const key of guard.keys) set.add(key);
  }
  return { kind: 'keys', sets };
}

// Cached on the policy object per plan, like the compiled closures (frozen policies: a WeakMap).
const slot = Symbol('ambient-ts.policy.guards');
const frozen = new WeakMap<AuthorizationPolicy, (PolicyGuard | undefined)[]>();

export function policyGuard(policy: AuthorizationPolicy, plan: Plan): PolicyGuard {
  let cache =
    (policy as unknown as Record<symbol, (PolicyGuard | undefined)[] | undefined>)[slot] ?? frozen.get(policy);
  if (!cache) {
    cache = [];
    if (Object.isExtensible(policy)) Object.defineProperty(policy, slot, { value: cache, enumerable: false });
    else frozen.set(policy, cache);
  }
  return (cache[plan.id] ??= computeGuard(policy, plan));
}

/** The request's guard keys, read once per decision. */
export interface RequestKeys {
  readonly peerOk: boolean;
  readonly principal: string | undefined;
  readonly namespace: string | undefined;
  readonly portOk: boolean;
  readonly port: number | undefined;
  readonly methodOk: boolean;
  readonly method: string | undefined;
}

export function requestKeys(prepared: Prepared): RequestKeys {
  const { peer, destinationPort, method } = prepared;
  return {
    peerOk: peer.ok,
    principal: peer.ok ? peer.value?.principal : undefined,
    namespace: peer.ok ? peer.value?.namespace : undefined,
    portOk: destinationPort.ok,
    port: destinationPort.ok ? destinationPort.value : undefined,
    methodOk: method.ok,
    method: method.ok ? method.value : undefined,
  };
}

/** Could the policy match this request? (An attribute that cannot be evaluated admits everything.) */
export function admits(guard: PolicyGuard, keys: RequestKeys): boolean {
  if (guard.kind !== 'keys') return guard.kind === 'any';
  const { principal, namespace, port, method } = guard.sets;
  if (principal && (!keys.peerOk || (keys.principal !== undefined && principal.has(keys.principal)))) return true;
  if (namespace && (!keys.peerOk || (keys.namespace !== undefined && namespace.has(keys.namespace)))) return true;
  if (port && (!keys.portOk || (keys.port !== undefined && port.has(keys.port)))) return true;
  if (method && (!keys.methodOk || (keys.method !== undefined && method.has(keys.method)))) return true;
  return false;
}

function build(
  policies: readonly AuthorizationPolicy[],
  layer: 'l4' | 'l7',
  tcp: boolean,
  options: EvaluateOptions,
): IndexedSet {
  const plans: Plan[] = [];
  const applicable = new Uint8Array(policies.length);
  const always: number[] = [];
  const maps = {
    principal: new Map<Key, number[]>(),
    namespace: new Map<Key, number[]>(),
    port: new Map<Key, number[]>(),
    method: new Map<Key, number[]>(),
  };
  const guarded = {
    principal: [] as number[],
    namespace: [] as number[],
    port: [] as number[],
    method: [] as number[],
  };
  let allowExists = false;
  let dryAllowExists = false;
  let dryTookPart = false;
  policies.forEach((policy, index) => {
    const plan = planFor(policy, layer, tcp, options);
    plans.push(plan);
    if (notApplicable(policy, layer)) return;
    applicable[index] = 1;
    if (policy.dryRun) {
      dryTookPart = true;
      if (policy.action === 'ALLOW') dryAllowExists = true;
    } else if (policy.action === 'ALLOW') allowExists = true;
    const guard = policyGuard(policy, plan);
    if (guard.kind === 'never') return; // no rule can match: never a candidate (but it still "exists")
    if (guard.kind === 'any') {
      always.push(index);
      return;
    }
    for (const attr of guardOrder) {
      const keys = guard.sets[attr];
      if (!keys) continue;
      guarded[attr].push(index);
      for (const key of keys) {
        const list = maps[attr].get(key);
        if (list) list.push(index);
        else maps[attr].set(key, [index]);
      }
    }
  });
  return { plans, applicable, allowExists, dryAllowExists, dryTookPart, always, maps, guarded };
}

/** Indices of the policies that could match, ascending. */
export function candidates(set: IndexedSet, prepared: Prepared): readonly number[] {
  const lists: (readonly number[])[] = [];
  if (set.always.length > 0) lists.push(set.always);
  const add = (attr: GuardAttr, ok: boolean, key: Key | undefined) => {
    if (set.guarded[attr].length === 0) return;
    if (!ok)
      lists.push(set.guarded[attr]); // cannot be evaluated: anything guarded on it may apply (fail closed)
    else if (key !== undefined) {
      const list = set.maps[attr].get(key);
      if (list) lists.push(list);
    }
  };
  const peer = prepared.peer;
  add('principal', peer.ok, peer.ok ? peer.value?.principal : undefined);
  add('namespace', peer.ok, peer.ok ? peer.value?.namespace : undefined);
  add('port', prepared.destinationPort.ok, prepared.destinationPort.ok ? prepared.destinationPort.value : undefined);
  add('method', prepared.method.ok, prepared.method.ok ? prepared.method.value : undefined);
  if (lists.length === 0) return [];
  let merged = lists[0]!;
  for (let i = 1; i < lists.length; i++) merged = mergeSorted(merged, lists[i]!);
  return merged;
}

/** Union of two ascending lists, ascending, without duplicates. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x <= y) {
      out.push(x);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

interface CacheEntry {
  /** Taken when the index is built; checked element-wise on every use. */
  snapshot: readonly AuthorizationPolicy[] | undefined;
  readonly sets: (IndexedSet | undefined)[];
}

const cache = new WeakMap<readonly AuthorizationPolicy[], CacheEntry>();
const MIN_SIZE = 32;

function sameElements(a: readonly AuthorizationPolicy[], b: readonly AuthorizationPolicy[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The index for this list, or undefined (small list, or first sighting: scan everything). */
export function indexedSetFor(
  policies: readonly AuthorizationPolicy[],
  layer: 'l4' | 'l7',
  tcp: boolean,
  options: EvaluateOptions,
): IndexedSet | undefined {
  if (policies.length < MIN_SIZE) return undefined;
  const entry = cache.get(policies);
  if (!entry) {
    cache.set(policies, { snapshot: undefined, sets: [] });
    return undefined;
  }
  // The caller may have changed the array since the index was built: rebuild then.
  if (!entry.snapshot || !sameElements(entry.snapshot, policies)) {
    entry.snapshot = [...policies];
    entry.sets.length = 0;
  }
  const variant = (layer === 'l4' ? 0 : tcp ? 2 : 1) * 2 + (options.emptyDenyMatch === 'never-match' ? 1 : 0);
  return (entry.sets[variant] ??= build(policies, layer, tcp, options));
}
