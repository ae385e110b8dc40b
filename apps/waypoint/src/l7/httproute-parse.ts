// Kubernetes HTTPRoute object → HttpRoute (httproute-model.ts). Structural errors (wrong types, missing
// required fields, bad regexes, out-of-range values) reject the whole object; valid features this
// waypoint does not implement are kept as warnings and make the affected rule answer 500.
import { parseGatewayDuration } from './duration.ts';
import { parseFilters } from './httproute-filters.ts';
import type {
  BackendRef,
  HttpRoute,
  ParentRef,
  PathMatch,
  RouteMatch,
  RouteRule,
  ValueMatch,
} from './httproute-model.ts';
import { isRecord, Problems, Reader, type JsonRecord, type Path } from './reader.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const headerName = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

export interface ParsedRoute {
  readonly route?: HttpRoute;
  readonly errors: readonly string[];
}

function parsePath(r: Reader, raw: unknown, path: Path): PathMatch {
  const record = r.record(raw, path);
  if (!record) return { type: 'PathPrefix', value: '/' };
  const type = r.string(record['type'], [...path, 'type']) ?? 'PathPrefix';
  const value = r.string(record['value'], [...path, 'value']) ?? '/';
  if (type !== 'Exact' && type !== 'PathPrefix' && type !== 'RegularExpression') {
    r.problems.error([...path, 'type'], `must be Exact, PathPrefix or RegularExpression, found "${type}"`);
    return { type: 'PathPrefix', value: '/' };
  }
  if (type === 'RegularExpression') {
    const regex = r.regex(value, [...path, 'value']);
    return regex ? { type, value, regex } : { type, value };
  }
  if (!value.startsWith('/')) r.problems.error([...path, 'value'], `must start with "/", found "${value}"`);
  if (type === 'PathPrefix' && value.includes('//')) r.problems.error([...path, 'value'], 'must not contain "//"');
  return { type, value };
}

function parseValueMatches(r: Reader, raw: unknown, path: Path, lower: boolean): ValueMatch[] {
  const out: ValueMatch[] = [];
  const seen = new Set<string>();
  r.list(raw, path).forEach((entry, i) => {
    const at = [...path, i];
    const record = r.record(entry, at);
    if (!record) return;
    const type = r.string(record['type'], [...at, 'type']) ?? 'Exact';
    const rawName = r.string(record['name'], [...at, 'name'], { required: true, nonEmpty: true });
    const value = r.string(record['value'], [...at, 'value'], { required: true });
    if (rawName === undefined || value === undefined) return;
    if (type !== 'Exact' && type !== 'RegularExpression') {
      r.problems.error([...at, 'type'], `must be Exact or RegularExpression, found "${type}"`);
      return;
    }
    if (lower && !headerName.test(rawName)) r.problems.error([...at, 'name'], `"${rawName}" is not a header name`);
    const name = lower ? rawName.toLowerCase() : rawName;
    // Gateway API: only the first entry for a name counts.
    if (seen.has(name)) return;
    seen.add(name);
    if (type === 'RegularExpression') {
      const regex = r.regex(value, [...at, 'value']);
      if (regex) out.push({ type, name, value, regex });
    } else out.push({ type, name, value });
  });
  return out;
}

function parseMatch(r: Reader, raw: unknown, path: Path): RouteMatch {
  const record = r.record(raw, path) ?? {};
  const method = r.string(record['method'], [...path, 'method']);
  if (method !== undefined && !methods.has(method)) {
    r.problems.error([...path, 'method'], `must be one of ${[...methods].join(', ')}, found "${method}"`);
  }
  return {
    path:
      record['path'] === undefined
        ? { type: 'PathPrefix', value: '/' }
        : parsePath(r, record['path'], [...path, 'path']),
    headers: parseValueMatches(r, record['headers'], [...path, 'headers'], true),
    queryParams: parseValueMatches(r, record['queryParams'], [...path, 'queryParams'], false),
    ...(method !== undefined && methods.has(method) ? { method } : {}),
  };
}

function parseBackend(r: Reader, raw: unknown, path: Path, namespace: string): BackendRef | undefined {
  const record = r.record(raw, path);
  if (!record) return undefined;
  const name = r.string(record['name'], [...path, 'name'], { required: true, nonEmpty: true });
  const port = r.integer(record['port'], [...path, 'port'], 1, 65535);
  const weight = r.integer(record['weight'], [...path, 'weight'], 0, 1_000_000) ?? 1;
  if (name === undefined) return undefined;
  return {
    group: r.string(record['group'], [...path, 'group']) ?? '',
    kind: r.string(record['kind'], [...path, 'kind']) ?? 'Service',
    name,
    namespace: r.string(record['namespace'], [...path, 'namespace'], { nonEmpty: true }) ?? namespace,
    ...(port !== undefined ? { port } : {}),
    weight,
    filters: parseFilters(r, record['filters'], [...path, 'filters'], true),
  };
}

function timeout(r: Reader, raw: unknown, path: Path): number | undefined {
  const text = r.string(raw, path);
  if (text === undefined) return undefined;
  const ms = parseGatewayDuration(text);
  if (ms === undefined) r.problems.error(path, `"${text}" is not a duration like 10s, 500ms or 1m30s`);
  return ms === 0 ? undefined : ms;
}

function parseRule(r: Reader, raw: unknown, index: number, namespace: string): RouteRule {
  const path = ['spec', 'rules', index];
  const record = r.record(raw, path) ?? {};
  const rawMatches = r.list(record['matches'], [...path, 'matches']);
  const matches =
    rawMatches.length === 0
      ? [parseMatch(r, {}, [...path, 'matches', 0])]
      : rawMatches.map((m, i) => parseMatch(r, m, [...path, 'matches', i]));
  const filters = parseFilters(r, record['filters'], [...path, 'filters'], false);
  const types = filters.map((filter) => filter.type);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    r.problems.error([...path, 'filters'], 'RequestRedirect and URLRewrite cannot be used together');
  }
  const usesPrefixReplace = filters.some(
    (f) =>
      (f.type === 'RequestRedirect' && f.redirect.path?.type === 'ReplacePrefixMatch') ||
      (f.type === 'URLRewrite' && f.rewrite.path?.type === 'ReplacePrefixMatch'),
  );
  if (usesPrefixReplace && matches.some((m) => m.path.type !== 'PathPrefix')) {
    r.problems.error([...path, 'filters'], 'ReplacePrefixMatch needs every match of the rule to be a PathPrefix match');
  }
  const timeouts = r.record(record['timeouts'], [...path, 'timeouts']) ?? {};
  const requestTimeoutMs = timeout(r, timeouts['request'], [...path, 'timeouts', 'request']);
  const backendRequestTimeoutMs = timeout(r, timeouts['backendRequest'], [...path, 'timeouts', 'backendRequest']);
  if (
    requestTimeoutMs !== undefined &&
    backendRequestTimeoutMs !== undefined &&
    backendRequestTimeoutMs > requestTimeoutMs
  ) {
    r.problems.error([...path, 'timeouts', 'backendRequest'], 'must not be longer than timeouts.request');
  }
  for (const key of ['retry', 'sessionPersistence']) {
    if (record[key] !== undefined)
      r.problems.warn([...path, key], 'is not implemented by this waypoint and is ignored');
  }
  const name = r.string(record['name'], [...path, 'name'], { nonEmpty: true });
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    matches,
    filters,
    backendRefs: r
      .list(record['backendRefs'], [...path, 'backendRefs'])
      .flatMap((b, i) => parseBackend(r, b, [...path, 'backendRefs', i], namespace) ?? []),
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    ...(backendRequestTimeoutMs !== undefined ? { backendRequestTimeoutMs } : {}),
  };
}

function parseParent(r: Reader, raw: unknown, path: Path, namespace: string): ParentRef | undefined {
  const record = r.record(raw, path);
  if (!record) return undefined;
  const name = r.string(record['name'], [...path, 'name'], { required: true, nonEmpty: true });
  const port = r.integer(record['port'], [...path, 'port'], 1, 65535);
  if (name === undefined) return undefined;
  const group = r.string(record['group'], [...path, 'group']) ?? GATEWAY_GROUP;
  return {
    group: group === 'core' ? '' : group,
    kind: r.string(record['kind'], [...path, 'kind']) ?? 'Gateway',
    name,
    namespace: r.string(record['namespace'], [...path, 'namespace'], { nonEmpty: true }) ?? namespace,
    ...(port !== undefined ? { port } : {}),
  };
}

/** Parse an HTTPRoute object; `errors` non-empty means it must be rejected. */
export function parseHttpRoute(input: unknown, fallback: { name: string; namespace: string }): ParsedRoute {
  const problems = new Problems();
  const r = new Reader(problems);
  const raw: JsonRecord = isRecord(input) ? input : {};
  const metadata = r.record(raw['metadata'], ['metadata']) ?? {};
  const name = r.string(metadata['name'], ['metadata', 'name'], { nonEmpty: true }) ?? fallback.name;
  const namespace =
    r.string(metadata['namespace'], ['metadata', 'namespace'], { nonEmpty: true }) ?? fallback.namespace;
  const spec = r.record(raw['spec'], ['spec']) ?? {};
  const parentRefs = r
    .list(spec['parentRefs'], ['spec', 'parentRefs'])
    .flatMap((p, i) => parseParent(r, p, ['spec', 'parentRefs', i], namespace) ?? []);
  if (parentRefs.length === 0 && problems.errors.length === 0)
    problems.error(['spec', 'parentRefs'], 'is required (a Service for a mesh route)');
  const hostnames = r
    .list(spec['hostnames'], ['spec', 'hostnames'])
    .flatMap((h, i) => r.string(h, ['spec', 'hostnames', i]) ?? []);
  const rawRules = spec['rules'] === undefined ? [{}] : r.list(spec['rules'], ['spec', 'rules']);
  if (rawRules.length > 16) problems.error(['spec', 'rules'], 'at most 16 rules are allowed');
  const rules = rawRules.map((rule, i) => parseRule(r, rule, i, namespace));
  const created = typeof metadata['creationTimestamp'] === 'string' ? Date.parse(metadata['creationTimestamp']) : NaN;
  if (problems.errors.length > 0) return { errors: problems.errors };
  const warnings = [...problems.warnings];
  rules.forEach((rule) => {
    for (const filter of [...rule.filters, ...rule.backendRefs.flatMap((b) => b.filters)]) {
      if (filter.type === 'Unsupported')
        warnings.push(
          `spec.rules[${rule.index}]: filter ${filter.name} is not implemented: requests matching this rule get 500`,
        );
    }
  });
  return {
    route: {
      kind: 'HTTPRoute',
      key: `${namespace}/${name}`,
      name,
      namespace,
      ...(Number.isFinite(created) ? { createdAt: created } : {}),
      parentRefs,
      hostnames,
      rules,
      warnings,
    },
    errors: [],
  };
}
