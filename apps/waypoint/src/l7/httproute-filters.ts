// HTTPRoute filters (rule and backendRef level): header modifiers, RequestRedirect and URLRewrite are
// parsed and checked; valid filter types this waypoint does not implement become `Unsupported`.
import type { HeaderModifier, PathModifier, RouteFilter } from './httproute-model.ts';
import type { Path, Reader } from './reader.ts';

const headerName = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const unsupportedFilters = new Set(['RequestMirror', 'CORS', 'ExtensionRef', 'ExternalAuth']);

function parseHeaderModifier(r: Reader, raw: unknown, path: Path): HeaderModifier {
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

function parsePathModifier(r: Reader, raw: unknown, path: Path): PathModifier | undefined {
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

function parseFilter(r: Reader, raw: unknown, path: Path, backend: boolean): RouteFilter | undefined {
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

export function parseFilters(r: Reader, raw: unknown, path: Path, backend: boolean): RouteFilter[] {
  return r.list(raw, path).flatMap((entry, i) => parseFilter(r, entry, [...path, i], backend) ?? []);
}
