// Validating an `istio.security.Authorization` (proto3 JSON, the type istio-api generates) and converting it
// into the model. Stricter than ztunnel where ztunnel silently drops unusable entries (that could widen an
// ALLOW): anything malformed is a failed result naming the field, so discovery can NACK it, together with
// the fail-closed policy to enforce in its place (a DENY that denies everything it can select, an ALLOW
// that allows nothing), so a NACK never opens a hole.
import { enumName, enumNames, messageFields, type security } from '@ambient-ts/istio-api';
import type { Cidr, Clause, Condition, Match, PolicyProblem, Rule, StringMatcher, XdsScope } from './model.ts';
import { policyKey, type AuthorizationPolicy } from './model.ts';
import { describe, formatPath, isRecord, type Path } from './problems.ts';

class Invalid extends Error {
  readonly path: Path;
  constructor(path: Path, message: string) {
    super(message);
    this.path = path;
  }
}

const scopes: readonly XdsScope[] = enumNames('istio.security.Scope');
const actions = enumNames('istio.security.Action');
const fields = {
  authorization: messageFields['istio.security.Authorization'],
  rule: messageFields['istio.security.Rule'],
  clause: messageFields['istio.security.Clause'],
  match: messageFields['istio.security.Match'],
  address: messageFields['istio.security.Address'],
  serviceAccount: messageFields['istio.security.ServiceAccountMatch'],
  stringMatch: messageFields['istio.security.StringMatch'],
} as const;

/** The L4 attributes of `istio.security.Match` (each also as `not…`), in the order conditions are built. */
export const XDS_MATCH_ATTRIBUTES = [
  ['namespaces', 'source.namespace'],
  ['principals', 'source.principal'],
  ['serviceAccounts', 'source.serviceAccount'],
  ['sourceIps', 'source.ip'],
  ['destinationIps', 'destination.ip'],
  ['destinationPorts', 'destination.port'],
] as const satisfies readonly (readonly [keyof security.Match, string])[];
const base64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function list(value: unknown, path: Path): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Invalid(path, `expected a list, found ${describe(value)}`);
  return value;
}

function only(value: unknown, path: Path, keys: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw new Invalid(path, `expected an object, found ${describe(value)}`);
  for (const key of Object.keys(value))
    if (!keys.includes(key)) throw new Invalid([...path, key], `unknown field ${JSON.stringify(key)}`);
  return value;
}

function enumValue<T extends string>(value: unknown, path: Path, names: readonly T[]): T {
  if (value === undefined || value === null) return names[0]!;
  if (typeof value === 'string' && (names as readonly string[]).includes(value)) return value as T;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) return names[value]!;
  throw new Invalid(path, `unknown enum value ${describe(value)} (expected one of ${names.join(', ')})`);
}

function stringMatch(value: unknown, path: Path): StringMatcher {
  const match = only(value, path, fields.stringMatch);
  const keys = Object.keys(match);
  if (keys.length !== 1)
    throw new Invalid(path, `a StringMatch needs exactly one of exact, prefix, suffix, presence; found ${keys.length}`);
  const key = keys[0]!;
  if (key === 'presence') {
    if (!isRecord(match['presence'])) throw new Invalid([...path, key], 'presence must be {} (google.protobuf.Empty)');
    return { kind: 'presence' };
  }
  const text = match[key];
  if (typeof text !== 'string') throw new Invalid([...path, key], `expected a string, found ${describe(text)}`);
  return { kind: key as 'exact' | 'prefix' | 'suffix', value: text };
}

function address(value: unknown, path: Path): Cidr {
  const raw = only(value, path, fields.address);
  const text = raw['address'] ?? '';
  if (typeof text !== 'string' || !base64.test(text)) throw new Invalid([...path, 'address'], 'expected base64 bytes');
  const bytes = new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new Invalid([...path, 'address'], `expected 4 or 16 address bytes, got ${bytes.length}`);
  }
  const max = bytes.length === 4 ? 32 : 128;
  const length = raw['length'] ?? 0;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > max) {
    throw new Invalid([...path, 'length'], `prefix length must be 0-${max}, found ${describe(length)}`);
  }
  return { family: bytes.length === 4 ? 4 : 6, bytes, prefixLength: length };
}

function port(value: unknown, path: Path): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Invalid(path, `port must be 0-65535, found ${describe(value)}`);
  }
  return value;
}

function serviceAccount(value: unknown, path: Path): { namespace: string; serviceAccount: string } {
  const raw = only(value, path, fields.serviceAccount);
  const namespace = raw['namespace'] ?? '';
  const name = raw['serviceAccount'] ?? '';
  if (typeof namespace !== 'string' || typeof name !== 'string')
    throw new Invalid(path, 'namespace and serviceAccount must be strings');
  return { namespace, serviceAccount: name };
}

function convertMatch(value: unknown, path: Path): Match {
  const raw = only(value, path, fields.match);
  const conditions: Condition[] = [];
  for (const [name, attribute] of XDS_MATCH_ATTRIBUTES) {
    for (const negated of [false, true]) {
      const key = negated ? `not${name[0]!.toUpperCase()}${name.slice(1)}` : name;
      const items = list(raw[key], [...path, key]);
      if (items.length === 0) continue;
      const common = { field: formatPath([...path, key]), negated, l4: true, httpOnly: false };
      const at = (i: number) => [...path, key, i];
      switch (attribute) {
        case 'source.namespace':
        case 'source.principal':
          conditions.push({ ...common, attribute, values: items.map((item, i) => stringMatch(item, at(i))) });
          break;
        case 'source.serviceAccount':
          conditions.push({ ...common, attribute, values: items.map((item, i) => serviceAccount(item, at(i))) });
          break;
        case 'source.ip':
        case 'destination.ip':
          conditions.push({ ...common, attribute, values: items.map((item, i) => address(item, at(i))) });
          break;
        case 'destination.port':
          conditions.push({ ...common, attribute, values: items.map((item, i) => port(item, at(i))) });
          break;
      }
    }
  }
  list(raw['extensions'], [...path, 'extensions']);
  return { field: formatPath(path), conditions };
}

function convert(input: unknown): AuthorizationPolicy {
  const raw = only(input, [], fields.authorization);
  const name = raw['name'] ?? '';
  const namespace = raw['namespace'] ?? '';
  if (typeof name !== 'string' || name === '') throw new Invalid(['name'], 'name must be a non-empty string');
  if (typeof namespace !== 'string')
    throw new Invalid(['namespace'], `expected a string, found ${describe(namespace)}`);
  const scope = enumValue(raw['scope'], ['scope'], scopes);
  const action = enumValue(raw['action'], ['action'], actions);
  const dryRun = raw['dryRun'] ?? false;
  if (typeof dryRun !== 'boolean') throw new Invalid(['dryRun'], `expected a boolean, found ${describe(dryRun)}`);
  list(raw['extensions'], ['extensions']);
  const rules: Rule[] = list(raw['rules'], ['rules']).map((rawRule, index) => {
    const rulePath = ['rules', index];
    const rule = only(rawRule, rulePath, fields.rule);
    const clauses: Clause[] = list(rule['clauses'], [...rulePath, 'clauses']).map((rawClause, c) => {
      const clausePath = [...rulePath, 'clauses', c];
      const clause = only(rawClause, clausePath, fields.clause);
      const matches = list(clause['matches'], [...clausePath, 'matches']).map((m, i) =>
        convertMatch(m, [...clausePath, 'matches', i]),
      );
      return { kind: 'xds', field: formatPath(clausePath), matches };
    });
    return { index, field: formatPath(rulePath), clauses, hasHttpOnly: false, hasNonL4: false };
  });
  return {
    kind: 'AuthorizationPolicy',
    key: policyKey(namespace, name),
    name,
    namespace,
    action,
    dryRun,
    attachment: { kind: 'xds', scope },
    rules,
    origin: 'xds',
    problems: [],
  };
}

/** The outcome of converting one `istio.security.Authorization`. */
export type XdsAuthorizationResult =
  | { readonly ok: true; readonly policy: AuthorizationPolicy }
  | {
      readonly ok: false;
      /** `istio.security.Authorization ns/name: <field>: <what is wrong>` */
      readonly message: string;
      /** What is wrong, with the field (`rules[0].clauses[0].matches[0].sourceIps[0].address`) and the effect. */
      readonly problems: readonly PolicyProblem[];
      /** The policy to enforce in its place: fail-closed (see failClosedAuthorization). */
      readonly failClosed: AuthorizationPolicy;
    };

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * The stand-in for an Authorization that cannot be understood, so that rejecting it never widens access:
 * a DENY (or an unknown action) becomes one rule that matches every connection — it denies everything it
 * can select — and an ALLOW allows nothing. An unknown scope selects as GLOBAL (the widest it could be).
 * It keeps the name, namespace and a literal `dryRun: true`, and carries `problems`.
 */
export function failClosedAuthorization(input: unknown, problems: readonly PolicyProblem[] = []): AuthorizationPolicy {
  const raw = isRecord(input) ? input : {};
  const name = text(raw['name']);
  const namespace = text(raw['namespace']);
  const scope = enumName('istio.security.Scope', raw['scope'] as string | number | undefined) ?? 'GLOBAL';
  const deny = enumName('istio.security.Action', raw['action'] as string | number | undefined) !== 'ALLOW';
  const rules: Rule[] = deny ? [{ index: 0, field: 'rules', clauses: [], hasHttpOnly: false, hasNonL4: false }] : [];
  return {
    kind: 'AuthorizationPolicy',
    key: policyKey(namespace, name),
    name,
    namespace,
    action: deny ? 'DENY' : 'ALLOW',
    dryRun: raw['dryRun'] === true,
    attachment: { kind: 'xds', scope },
    rules,
    origin: 'xds',
    problems,
  };
}

/**
 * Validate and convert Istio's L4 `Authorization` (proto3 JSON). Never throws: a malformed one gives
 * `{ ok: false }` naming the policy (`namespace/name`) and the field, e.g.
 * `rules[0].clauses[0].matches[0].sourceIps[0].address`, with the fail-closed policy to enforce instead.
 */
export function fromXdsAuthorization(input: security.Authorization | unknown): XdsAuthorizationResult {
  try {
    return { ok: true, policy: convert(input) };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const raw = isRecord(input) ? input : {};
    const key = policyKey(text(raw['namespace']), text(raw['name']) || '<unnamed>');
    const field = formatPath(error.path) || '<root>';
    const deny = enumName('istio.security.Action', raw['action'] as string | number | undefined) !== 'ALLOW';
    const problem: PolicyProblem = {
      policy: key,
      field,
      path: error.path,
      message: error.message,
      severity: 'error',
      effect: deny
        ? 'enforced as a DENY of every connection it can select (fail-closed)'
        : 'enforced as an ALLOW that allows nothing (fail-closed)',
    };
    return {
      ok: false,
      message: `istio.security.Authorization ${key}: ${field}: ${error.message}`,
      problems: [problem],
      failClosed: failClosedAuthorization(input, [problem]),
    };
  }
}
