// Kubernetes HTTPRoute object → HttpRoute (model.ts). Structural errors (wrong types, missing required
// fields, bad regexes, out-of-range values) reject the whole object; valid features this package does not
// implement are kept as warnings and make the affected rule answer 500.
import type { HttpRoute, PathMatch, RouteMatch, RouteRule } from './model.ts';
import {
  parseBackend,
  parseRouteObject,
  parseTimeout,
  parseValueMatches,
  type ParseFallback,
  type Parsed,
} from './parse-common.ts';
import { parseFilters } from './parse-filters.ts';
import type { FieldPath, ObjectReader } from './reader.ts';

const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const MAX_RULES = 16;

export type ParsedHttpRoute = Parsed<HttpRoute>;

function parsePath(r: ObjectReader, raw: unknown, path: FieldPath): PathMatch {
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

function parseMatch(r: ObjectReader, raw: unknown, path: FieldPath): RouteMatch {
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

function parseRule(r: ObjectReader, raw: unknown, index: number, namespace: string): RouteRule {
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
  const requestTimeoutMs = parseTimeout(r, timeouts['request'], [...path, 'timeouts', 'request']);
  const backendRequestTimeoutMs = parseTimeout(r, timeouts['backendRequest'], [...path, 'timeouts', 'backendRequest']);
  if (
    requestTimeoutMs !== undefined &&
    backendRequestTimeoutMs !== undefined &&
    backendRequestTimeoutMs > requestTimeoutMs
  ) {
    r.problems.error([...path, 'timeouts', 'backendRequest'], 'must not be longer than timeouts.request');
  }
  for (const key of ['retry', 'sessionPersistence']) {
    if (record[key] !== undefined) r.problems.warn([...path, key], 'is not implemented by this proxy and is ignored');
  }
  const name = r.string(record['name'], [...path, 'name'], { nonEmpty: true });
  const backendFilters = (raw: unknown, at: FieldPath) => parseFilters(r, raw, at, true);
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    matches,
    filters,
    backendRefs: r
      .list(record['backendRefs'], [...path, 'backendRefs'])
      .flatMap((b, i) => parseBackend(r, b, [...path, 'backendRefs', i], namespace, backendFilters) ?? []),
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    ...(backendRequestTimeoutMs !== undefined ? { backendRequestTimeoutMs } : {}),
  };
}

/**
 * Parse an HTTPRoute object. `route` is set when nothing is an error; `problems` lists every error and
 * warning with its field. `fallback` names the object when its metadata does not.
 */
export function parseHttpRoute(input: unknown, fallback: ParseFallback): ParsedHttpRoute {
  return parseRouteObject('HTTPRoute', input, fallback, (r, spec, namespace) => {
    const rawRules = spec['rules'] === undefined ? [{}] : r.list(spec['rules'], ['spec', 'rules']);
    if (rawRules.length > MAX_RULES) r.problems.error(['spec', 'rules'], `at most ${MAX_RULES} rules are allowed`);
    const rules = rawRules.map((rule, i) => parseRule(r, rule, i, namespace));
    for (const rule of rules) {
      for (const filter of [...rule.filters, ...rule.backendRefs.flatMap((b) => b.filters)]) {
        if (filter.type === 'Unsupported')
          r.problems.warn(
            ['spec', 'rules', rule.index],
            `filter ${filter.name} is not implemented: requests matching this rule get 500`,
          );
      }
    }
    return { rules };
  });
}
