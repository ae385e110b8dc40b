// ztunnel LocalConfig policies (serde model: rules = list of clauses = list of matches, externally
// tagged string matches, CIDR strings) -> istio.security.Authorization (proto3 JSON) -> the domain policy
// the store keeps, through the same converter as xDS (one that fails is enforced fail-closed).
import { canonicalIp, ipToBytes } from '@ambient-ts/addresses';
import { bytesToBase64, type security } from '@ambient-ts/istio-api';
import { XDS_MATCH_ATTRIBUTES, fromXdsAuthorization, type AuthorizationPolicy } from '@ambient-ts/policy';
import { isScalar } from 'yaml';
import type { YamlCursor } from './yaml-cursor.ts';

const negated = (field: string) => `not${field[0]!.toUpperCase()}${field.slice(1)}`;
/** Match key -> the attribute it carries, for every L4 match field and its `not` form. */
const MATCH_KEYS = new Map<string, (typeof XDS_MATCH_ATTRIBUTES)[number][1]>(
  XDS_MATCH_ATTRIBUTES.flatMap(([field, attribute]) => [
    [field, attribute],
    [negated(field), attribute],
  ]),
);

function stringMatch(cursor: YamlCursor): security.StringMatch {
  // `Presence` may be written as a bare string or as `{Presence: []}` (serde tuple variant)
  if (isScalar(cursor.node) && cursor.node.value === 'Presence') {
    return { presence: {} };
  }
  const entries = cursor.entries();
  const entry = entries[0];
  if (entries.length !== 1 || !entry)
    cursor.fail('expected one of {Exact: s}, {Prefix: s}, {Suffix: s}, {Presence: []}');
  switch (entry.name) {
    case 'Exact':
      return { exact: entry.value.string() };
    case 'Prefix':
      return { prefix: entry.value.string() };
    case 'Suffix':
      return { suffix: entry.value.string() };
    case 'Presence':
      return { presence: {} };
    default:
      return entry.key.fail('expected Exact, Prefix, Suffix or Presence');
  }
}

function cidr(cursor: YamlCursor): security.Address {
  const text = cursor.string();
  const [ipText, lengthText] = text.split('/');
  const bytes = ipToBytes(canonicalIp(ipText ?? '') ?? '');
  const full = (bytes?.length ?? 0) * 8;
  const length = lengthText === undefined ? full : /^\d+$/.test(lengthText) ? Number(lengthText) : -1;
  if (!bytes || length < 0 || length > full) cursor.fail(`expected an IP or CIDR, got ${JSON.stringify(text)}`);
  return { address: bytesToBase64(bytes), ...(length !== 0 ? { length } : {}) };
}

function serviceAccount(cursor: YamlCursor): security.ServiceAccountMatch {
  const f = cursor.map(['namespace', 'serviceAccount']);
  const namespace = f.get('namespace')?.string() ?? '';
  const account = f.get('serviceAccount')?.string() ?? '';
  return { ...(namespace ? { namespace } : {}), ...(account ? { serviceAccount: account } : {}) };
}

function match(cursor: YamlCursor): security.Match {
  const out: Record<string, unknown> = {};
  for (const [key, value] of cursor.map([...MATCH_KEYS.keys()])) {
    const items = value.list();
    if (items.length === 0) continue;
    switch (MATCH_KEYS.get(key)) {
      case 'source.namespace':
      case 'source.principal':
        out[key] = items.map(stringMatch);
        break;
      case 'source.serviceAccount':
        out[key] = items.map(serviceAccount);
        break;
      case 'source.ip':
      case 'destination.ip':
        out[key] = items.map(cidr);
        break;
      default:
        out[key] = items.map((item) => item.int(0, 65535));
    }
  }
  return out as security.Match;
}

/**
 * One LocalConfig policy in the domain model. It is written as proto3 JSON (defaults omitted: Global/Allow
 * have no scope/action key) and converted like an xDS one; if that fails it is enforced fail-closed and the
 * policy's `problems` say why.
 */
export function localPolicy(cursor: YamlCursor): AuthorizationPolicy {
  const result = fromXdsAuthorization(localAuthorization(cursor));
  return result.ok ? result.policy : result.failClosed;
}

/** One LocalConfig policy as the istio.security.Authorization it stands for. */
export function localAuthorization(cursor: YamlCursor): security.Authorization {
  const f = cursor.map(['name', 'namespace', 'scope', 'action', 'rules', 'dryRun']);
  const need = (key: string) => {
    const value = f.get(key);
    if (!value || value.isNull) cursor.fail(`missing required field ${key}`);
    return value;
  };
  const name = need('name').string();
  const namespace = need('namespace').string();
  const scope = need('scope').oneOf(['Global', 'Namespace', 'WorkloadSelector'] as const);
  const action = need('action').oneOf(['Allow', 'Deny'] as const);
  const rules = (f.get('rules')?.list() ?? []).map((rule) => ({
    clauses: rule.list().map((clause) => ({ matches: clause.list().map(match) })),
  }));
  const dryRun = f.get('dryRun')?.bool() ?? false;
  const policy: security.Authorization = {
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
    ...(scope === 'Namespace'
      ? { scope: 'NAMESPACE' as const }
      : scope === 'WorkloadSelector'
        ? { scope: 'WORKLOAD_SELECTOR' as const }
        : {}),
    ...(action === 'Deny' ? { action: 'DENY' as const } : {}),
    ...(rules.length > 0 ? { rules: rules.map(compactRule) } : {}),
    ...(dryRun ? { dryRun } : {}),
  };
  return policy;
}

// proto3 JSON omits empty repeated fields
function compactRule(rule: { clauses: { matches: security.Match[] }[] }) {
  const clauses = rule.clauses.map((clause) => (clause.matches.length > 0 ? clause : {}));
  return clauses.length > 0 ? { clauses } : {};
}
