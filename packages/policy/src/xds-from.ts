// Validating an `istio.security.Authorization` (proto3 JSON) and converting it into the model.
// Stricter than ztunnel where ztunnel silently drops unusable entries (that could widen an ALLOW):
// anything malformed is rejected so discovery can NACK it with this message.
import { PolicyError } from './errors.ts';
import type { Cidr, Clause, Condition, Match, Rule, StringMatcher, XdsScope } from './model.ts';
import { policyKey, type AuthorizationPolicy } from './model.ts';
import { describe, formatPath, isRecord, type Path } from './problems.ts';

class Invalid extends Error {
  readonly path: Path;
  constructor(path: Path, message: string) {
    super(message);
    this.path = path;
  }
}

const scopes: readonly XdsScope[] = ['GLOBAL', 'NAMESPACE', 'WORKLOAD_SELECTOR'];
const matchFields = new Set([
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'principals',
  'notPrincipals',
  'sourceIps',
  'notSourceIps',
  'destinationIps',
  'notDestinationIps',
  'destinationPorts',
  'notDestinationPorts',
  'extensions',
]);
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
  const match = only(value, path, ['exact', 'prefix', 'suffix', 'presence']);
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
  const raw = only(value, path, ['address', 'length']);
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
  const raw = only(value, path, ['namespace', 'serviceAccount']);
  const namespace = raw['namespace'] ?? '';
  const name = raw['serviceAccount'] ?? '';
  if (typeof namespace !== 'string' || typeof name !== 'string')
    throw new Invalid(path, 'namespace and serviceAccount must be strings');
  return { namespace, serviceAccount: name };
}

function convertMatch(value: unknown, path: Path): Match {
  const raw = only(value, path, [...matchFields]);
  const conditions: Condition[] = [];
  const pairs = [
    ['namespaces', 'source.namespace'],
    ['principals', 'source.principal'],
    ['serviceAccounts', 'source.serviceAccount'],
    ['sourceIps', 'source.ip'],
    ['destinationIps', 'destination.ip'],
    ['destinationPorts', 'destination.port'],
  ] as const;
  for (const [name, attribute] of pairs) {
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
  const raw = only(input, [], ['name', 'namespace', 'scope', 'action', 'rules', 'dryRun', 'extensions']);
  const name = raw['name'] ?? '';
  const namespace = raw['namespace'] ?? '';
  if (typeof name !== 'string' || name === '') throw new Invalid(['name'], 'name must be a non-empty string');
  if (typeof namespace !== 'string')
    throw new Invalid(['namespace'], `expected a string, found ${describe(namespace)}`);
  const scope = enumValue(raw['scope'], ['scope'], scopes);
  const action = enumValue(raw['action'], ['action'], ['ALLOW', 'DENY'] as const);
  const dryRun = raw['dryRun'] ?? false;
  if (typeof dryRun !== 'boolean') throw new Invalid(['dryRun'], `expected a boolean, found ${describe(dryRun)}`);
  list(raw['extensions'], ['extensions']);
  const rules: Rule[] = list(raw['rules'], ['rules']).map((rawRule, index) => {
    const rulePath = ['rules', index];
    const rule = only(rawRule, rulePath, ['clauses']);
    const clauses: Clause[] = list(rule['clauses'], [...rulePath, 'clauses']).map((rawClause, c) => {
      const clausePath = [...rulePath, 'clauses', c];
      const clause = only(rawClause, clausePath, ['matches']);
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

/**
 * Validate and convert Istio's L4 `Authorization` (proto3 JSON). Throws `INVALID_XDS_AUTHORIZATION`
 * naming the policy (`namespace/name`) and field, e.g. `rules[0].clauses[0].matches[0].sourceIps[0].address`.
 */
export function fromXdsAuthorization(input: unknown): AuthorizationPolicy {
  try {
    return convert(input);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const raw = isRecord(input) ? input : {};
    const key = `${typeof raw['namespace'] === 'string' ? raw['namespace'] : ''}/${typeof raw['name'] === 'string' ? raw['name'] : '<unnamed>'}`;
    const field = formatPath(error.path) || '<root>';
    throw new PolicyError(
      'INVALID_XDS_AUTHORIZATION',
      `istio.security.Authorization ${key}: ${field}: ${error.message}`,
    );
  }
}
