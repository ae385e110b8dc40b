// The parsing every route kind shares: metadata and parentRefs, hostnames, header matches, weighted
// backendRefs, header modifiers and GEP-2257 timeouts. A kind's own parser (parse-http.ts) adds its
// matches and filters.
import { parseGatewayDuration } from './duration.ts';
import type { HeaderModifier, ParentRef, RouteObject, ValueMatch, WeightedBackendRef } from './model.ts';
import {
  isRecord,
  ObjectReader,
  ProblemList,
  problemText,
  type FieldPath,
  type JsonRecord,
  type RouteProblem,
} from './reader.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const headerName = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Where the object was received from: its name when metadata lacks one. */
export interface ParseFallback {
  readonly name: string;
  readonly namespace: string;
}

/** Header (`lower`) or query-parameter matches; only the first entry for a name counts (Gateway API). */
export function parseValueMatches(r: ObjectReader, raw: unknown, path: FieldPath, lower: boolean): ValueMatch[] {
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
    if (seen.has(name)) return;
    seen.add(name);
    if (type === 'RegularExpression') {
      const regex = r.regex(value, [...at, 'value']);
      if (regex) out.push({ type, name, value, regex });
    } else out.push({ type, name, value });
  });
  return out;
}

export function parseHeaderModifier(r: ObjectReader, raw: unknown, path: FieldPath): HeaderModifier {
  const record = r.record(raw, path);
  if (!record) {
    r.problems.error(path, 'is required for this filter type');
    return { set: [], add: [], remove: [] };
  }
  const pairs = (key: string) =>
    r.list(record[key], [...path, key]).flatMap((entry, i) => {
      const at = [...path, key, i];
      const item = r.record(entry, at);
      const name = item && r.string(item['name'], [...at, 'name'], { required: true, nonEmpty: true });
      const value = item && r.string(item['value'], [...at, 'value'], { required: true });
      if (name === undefined || value === undefined) return [];
      if (!headerName.test(name)) {
        r.problems.error([...at, 'name'], `"${name}" is not a header name`);
        return [];
      }
      return [{ name: name.toLowerCase(), value }];
    });
  const remove = r.list(record['remove'], [...path, 'remove']).flatMap((entry, i) => {
    const name = r.string(entry, [...path, 'remove', i], { nonEmpty: true });
    return name === undefined ? [] : [name.toLowerCase()];
  });
  return { set: pairs('set'), add: pairs('add'), remove };
}

/** A backendRef (defaults: core Service in the route's namespace, weight 1); `filters` parses its filters. */
export function parseBackend<F>(
  r: ObjectReader,
  raw: unknown,
  path: FieldPath,
  namespace: string,
  filters: (raw: unknown, path: FieldPath) => F[],
): WeightedBackendRef<F> | undefined {
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
    filters: filters(record['filters'], [...path, 'filters']),
  };
}

/** A GEP-2257 duration in ms; "0s" (disabled) and absence are undefined. */
export function parseTimeout(r: ObjectReader, raw: unknown, path: FieldPath): number | undefined {
  const text = r.string(raw, path);
  if (text === undefined) return undefined;
  const ms = parseGatewayDuration(text);
  if (ms === undefined) r.problems.error(path, `"${text}" is not a duration like 10s, 500ms or 1m30s`);
  return ms === 0 ? undefined : ms;
}

function parseParent(r: ObjectReader, raw: unknown, path: FieldPath, namespace: string): ParentRef | undefined {
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

/** The result of parsing one route object: the route when it has no errors, and every problem found. */
export interface Parsed<R> {
  readonly route?: R;
  readonly problems: readonly RouteProblem[];
}

/**
 * The frame of every route parser: metadata, parentRefs (required), hostnames and creationTimestamp;
 * `rules` reads the kind's rules. The route is returned only when nothing was an error.
 */
export function parseRouteObject<K extends string, Rest extends object>(
  kind: K,
  input: unknown,
  fallback: ParseFallback,
  rules: (r: ObjectReader, spec: JsonRecord, namespace: string) => Rest,
): Parsed<RouteObject<K> & Rest> {
  const problems = new ProblemList();
  const r = new ObjectReader(problems);
  const raw: JsonRecord = isRecord(input) ? input : {};
  const { metadata, name, namespace } = r.metadata(raw, fallback);
  const spec = r.record(raw['spec'], ['spec']) ?? {};
  const parentRefs = r
    .list(spec['parentRefs'], ['spec', 'parentRefs'])
    .flatMap((p, i) => parseParent(r, p, ['spec', 'parentRefs', i], namespace) ?? []);
  if (parentRefs.length === 0 && !problems.hasErrors)
    problems.error(['spec', 'parentRefs'], 'is required (a Service for a mesh route)');
  const hostnames = r
    .list(spec['hostnames'], ['spec', 'hostnames'])
    .flatMap((h, i) => r.string(h, ['spec', 'hostnames', i]) ?? []);
  const rest = rules(r, spec, namespace);
  const created = typeof metadata['creationTimestamp'] === 'string' ? Date.parse(metadata['creationTimestamp']) : NaN;
  const found = problems.for(kind, `${namespace}/${name}`);
  if (problems.hasErrors) return { problems: found };
  return {
    route: {
      kind,
      key: `${namespace}/${name}`,
      name,
      namespace,
      ...(Number.isFinite(created) ? { createdAt: created } : {}),
      parentRefs,
      hostnames,
      warnings: found.map(problemText),
      ...rest,
    },
    problems: found,
  };
}
