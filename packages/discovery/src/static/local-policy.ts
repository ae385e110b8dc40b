// ztunnel LocalConfig policies (serde model: rules = list of clauses = list of matches, externally
// tagged string matches, CIDR strings) -> the proto3 JSON Authorization form the store keeps.
import { isScalar } from 'yaml';
import { canonicalIp, ipToBytes } from '@ambient-ts/addresses';
import { bytesToBase64 } from '../codec/base64.ts';
import type { XdsAuthorization, XdsCidr, XdsMatch, XdsServiceAccountMatch, XdsStringMatch } from '../xds-types.ts';
import type { YamlCursor } from './yaml-cursor.ts';

const MATCH_KEYS = [
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
] as const;

function stringMatch(cursor: YamlCursor): XdsStringMatch {
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

function cidr(cursor: YamlCursor): XdsCidr {
  const text = cursor.string();
  const [ipText, lengthText] = text.split('/');
  const bytes = ipToBytes(canonicalIp(ipText ?? '') ?? '');
  const full = (bytes?.length ?? 0) * 8;
  const length = lengthText === undefined ? full : /^\d+$/.test(lengthText) ? Number(lengthText) : -1;
  if (!bytes || length < 0 || length > full) cursor.fail(`expected an IP or CIDR, got ${JSON.stringify(text)}`);
  return { address: bytesToBase64(bytes), ...(length !== 0 ? { length } : {}) };
}

function serviceAccount(cursor: YamlCursor): XdsServiceAccountMatch {
  const f = cursor.map(['namespace', 'serviceAccount']);
  const namespace = f.get('namespace')?.string() ?? '';
  const account = f.get('serviceAccount')?.string() ?? '';
  return { ...(namespace ? { namespace } : {}), ...(account ? { serviceAccount: account } : {}) };
}

function match(cursor: YamlCursor): XdsMatch {
  const out: Record<string, unknown> = {};
  for (const [key, value] of cursor.map(MATCH_KEYS)) {
    const items = value.list();
    if (items.length === 0) continue;
    if (key.endsWith('amespaces') || key.endsWith('rincipals')) out[key] = items.map(stringMatch);
    else if (key.endsWith('erviceAccounts')) out[key] = items.map(serviceAccount);
    else if (key.endsWith('Ips')) out[key] = items.map(cidr);
    else out[key] = items.map((item) => item.int(0, 65535));
  }
  return out as XdsMatch;
}

/** One LocalConfig policy as proto3 JSON (defaults omitted: Global/Allow have no scope/action key). */
export function localPolicy(cursor: YamlCursor): XdsAuthorization {
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
  const policy: XdsAuthorization = {
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
function compactRule(rule: { clauses: { matches: XdsMatch[] }[] }) {
  const clauses = rule.clauses.map((clause) => (clause.matches.length > 0 ? clause : {}));
  return clauses.length > 0 ? { clauses } : {};
}
