// Request paths as the waypoint's policy sees them: query removed, normalized per meshConfig
// `pathNormalization`, and Istio's `{*}` / `{**}` path templates (Envoy uri_template semantics).

/** meshConfig `pathNormalization.normalization`; DEFAULT is BASE. */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export type NormalizedPath =
  { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

const hex = '0123456789ABCDEF';
const unreserved = /^[A-Za-z0-9\-._~]$/;
// Visible ASCII only: Envoy's codecs reject control characters, spaces and raw non-ASCII in :path.
const visibleAscii = /^[\x21-\x7e]*$/;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Decode %XX of unreserved characters (RFC 3986 §6.2.2.2), upper-case the rest; slashes too if asked. */
function normalizeEscapes(path: string, decodeSlashes: boolean): string | undefined {
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    if (char !== '%') {
      out += char;
      continue;
    }
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) return undefined;
    const decoded = String.fromCharCode(high * 16 + low);
    i += 2;
    if (unreserved.test(decoded) || (decodeSlashes && (decoded === '/' || decoded === '\\'))) out += decoded;
    else out += `%${hex[high]}${hex[low]}`;
  }
  return out;
}

/** RFC 3986 §5.2.4 remove_dot_segments, for an absolute path. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const output: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) output.push('');
    } else if (segment === '..') {
      output.pop();
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  }
  return `/${output.join('/')}`;
}

/**
 * The path the waypoint matches and forwards: query and fragment removed, then normalized.
 * Fails (the caller must deny, fail closed) on characters a proxy would reject, bad %-escapes, or a
 * path that is neither absolute nor `*`.
 */
export function normalizePath(rawPath: string, mode: PathNormalization = 'BASE'): NormalizedPath {
  let end = rawPath.length;
  const query = rawPath.indexOf('?');
  if (query !== -1) end = query;
  const fragment = rawPath.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  let path = rawPath.slice(0, end);
  if (!visibleAscii.test(path)) return { ok: false, reason: 'path contains control, space or non-ASCII characters' };
  if (path === '*') return { ok: true, path };
  if (!path.startsWith('/')) return { ok: false, reason: 'path does not start with "/"' };
  if (mode === 'NONE') return { ok: true, path };
  const escaped = normalizeEscapes(path, mode === 'DECODE_AND_MERGE_SLASHES');
  if (escaped === undefined) return { ok: false, reason: 'path has an invalid %-escape' };
  path = removeDotSegments(escaped.replaceAll('\\', '/'));
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/\/{2,}/g, '/');
  return { ok: true, path };
}

// Envoy uri_template: `*` = one segment of pchars, `**` = any pchars and slashes (must be last glob).
const literalChars = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const validLiteral = new RegExp(`^[${literalChars}]+$`);
const oneSegment = `[${literalChars}]+`;
const anySegments = `[${literalChars}/]*`;

export function containsPathTemplate(value: string): boolean {
  return value.includes('{*}') || value.includes('{**}');
}

/** Compile an Istio path template, or explain why it is invalid (Istio's and Envoy's rules). */
export function compilePathTemplate(template: string): { ok: true; regex: RegExp } | { ok: false; reason: string } {
  if (!/^\/[\x21-\x7e]*$/.test(template))
    return { ok: false, reason: 'a path template must start with "/" and contain only visible ASCII' };
  if (template.includes('//')) return { ok: false, reason: 'a path template cannot contain "//"' };
  const segments = template.slice(1).split('/');
  let sawAny = false;
  const parts: string[] = [];
  for (const segment of segments) {
    if (segment === '{*}' || segment === '{**}') {
      if (sawAny) return { ok: false, reason: '{**} must be the last operator in a path template' };
      sawAny = segment === '{**}';
      parts.push(segment === '{*}' ? oneSegment : anySegments);
      continue;
    }
    if (segment.includes('{') || segment.includes('}')) {
      return { ok: false, reason: `segment ${JSON.stringify(segment)} has "{" or "}" outside {*} or {**}` };
    }
    if (segment !== '' && !validLiteral.test(segment)) {
      return { ok: false, reason: `segment ${JSON.stringify(segment)} has characters a path template does not allow` };
    }
    parts.push(segment.replace(/[.$()+]/g, (c) => `\\${c}`));
  }
  return { ok: true, regex: new RegExp(`^/${parts.join('/')}$`) };
}
