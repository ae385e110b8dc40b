// HTTPRoute filters (rule and backendRef level): header modifiers, RequestRedirect and URLRewrite are
// parsed and checked; valid filter types this package does not implement become `Unsupported`.
import type { PathModifier, RouteFilter } from './model.ts';
import { parseHeaderModifier } from './parse-common.ts';
import type { FieldPath, ObjectReader } from './reader.ts';

const unsupportedFilters = new Set(['RequestMirror', 'CORS', 'ExtensionRef', 'ExternalAuth']);

function parsePathModifier(r: ObjectReader, raw: unknown, path: FieldPath): PathModifier | undefined {
  const record = r.record(raw, path);
  if (!record) return undefined;
  const type = r.string(record['type'], [...path, 'type'], { required: true });
  if (type === 'ReplaceFullPath' || type === 'ReplacePrefixMatch') {
    const key = type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch';
    const value = r.string(record[key], [...path, key], { required: true });
    if (value === undefined) return undefined;
    if (!value.startsWith('/')) r.problems.error([...path, key], `must start with "/", found "${value}"`);
    return { type, value };
  }
  if (type !== undefined)
    r.problems.error([...path, 'type'], `must be ReplaceFullPath or ReplacePrefixMatch, found "${type}"`);
  return undefined;
}

function parseFilter(r: ObjectReader, raw: unknown, path: FieldPath, backend: boolean): RouteFilter | undefined {
  const record = r.record(raw, path);
  if (!record) return undefined;
  const type = r.string(record['type'], [...path, 'type'], { required: true });
  if (type === undefined) return undefined;
  switch (type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
      return { type, modifier: parseHeaderModifier(r, record[key], [...path, key]) };
    }
    case 'RequestRedirect':
    case 'URLRewrite': {
      if (backend) return { type: 'Unsupported', name: `${type} on a backendRef` };
      const key = type === 'RequestRedirect' ? 'requestRedirect' : 'urlRewrite';
      const at = [...path, key];
      const body = r.record(record[key], at) ?? {};
      const hostname = r.string(body['hostname'], [...at, 'hostname'], { nonEmpty: true });
      const pathModifier = parsePathModifier(r, body['path'], [...at, 'path']);
      const common = {
        ...(hostname !== undefined ? { hostname } : {}),
        ...(pathModifier ? { path: pathModifier } : {}),
      };
      if (type === 'URLRewrite') return { type, rewrite: common };
      const scheme = r.string(body['scheme'], [...at, 'scheme']);
      if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
        r.problems.error([...at, 'scheme'], `must be http or https, found "${scheme}"`);
      }
      const port = r.integer(body['port'], [...at, 'port'], 1, 65535);
      const statusCode = body['statusCode'] ?? 302;
      if (![301, 302, 303, 307, 308].includes(statusCode as number)) {
        r.problems.error(
          [...at, 'statusCode'],
          `must be 301, 302, 303, 307 or 308, found ${JSON.stringify(statusCode)}`,
        );
      }
      return {
        type,
        redirect: {
          ...common,
          ...(scheme === 'http' || scheme === 'https' ? { scheme } : {}),
          ...(port !== undefined ? { port } : {}),
          statusCode: statusCode as 301 | 302 | 303 | 307 | 308,
        },
      };
    }
    default:
      if (unsupportedFilters.has(type)) return { type: 'Unsupported', name: type };
      r.problems.error([...path, 'type'], `unknown filter type "${type}"`);
      return undefined;
  }
}

export function parseFilters(r: ObjectReader, raw: unknown, path: FieldPath, backend: boolean): RouteFilter[] {
  return r.list(raw, path).flatMap((entry, i) => parseFilter(r, entry, [...path, i], backend) ?? []);
}
