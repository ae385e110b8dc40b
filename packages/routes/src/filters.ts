// HTTPRoute filters as pure functions over plain header maps and paths (l7-facts §4.2):
// header modifiers (set overwrites, add appends comma-joined, remove), RequestRedirect's Location, and
// URLRewrite / ReplacePrefixMatch path arithmetic as the Gateway API type comments tabulate it.
import type { HeaderModifier, PathMatch, PathModifier, Redirect } from './model.ts';

/** Lower-case header name → value(s). */
export type HeaderMap = Record<string, string | string[] | undefined>;

export function applyHeaderModifier(headers: HeaderMap, modifier: HeaderModifier): void {
  for (const { name, value } of modifier.set) headers[name] = value;
  for (const { name, value } of modifier.add) {
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = `${Array.isArray(existing) ? existing.join(',') : existing},${value}`;
  }
  for (const name of modifier.remove) delete headers[name];
}

/** Replace the part of `path` matched by `prefix` (element-wise) with `replacement`. */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const trimmedPrefix = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const rest = path.slice(trimmedPrefix.length);
  const base = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  const result = base + rest;
  if (result === '') return '/';
  return result.startsWith('/') ? result : `/${result}`;
}

/** The new path for a ReplaceFullPath / ReplacePrefixMatch modifier (query kept by the caller). */
export function modifyPath(path: string, modifier: PathModifier | undefined, match: PathMatch): string {
  if (!modifier) return path;
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  return match.type === 'PathPrefix' ? replacePrefix(path, match.value, modifier.value) : path;
}

/** `host` or `host:port` (with `[v6]:port`) → parts. */
export function splitHost(host: string): { hostname: string; port?: number } {
  const match = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!match) return { hostname: host };
  return { hostname: match[1]!, ...(match[2] ? { port: Number(match[2]) } : {}) };
}

export interface RedirectInput {
  readonly scheme: 'http' | 'https';
  /** Request Host / :authority. */
  readonly host: string;
  /** The port the client dialed (the service port: a mesh route's "listener port"). */
  readonly listenerPort: number;
  readonly path: string;
  /** `?a=b` or ''. */
  readonly query: string;
  readonly match: PathMatch;
}

/** The `Location` of a RequestRedirect: defaults from the request; a scheme change implies its well-known port. */
export function redirectLocation(redirect: Redirect, input: RedirectInput): string {
  const scheme = redirect.scheme ?? input.scheme;
  const requested = splitHost(input.host);
  const hostname = redirect.hostname ?? requested.hostname;
  let port: number;
  if (redirect.port !== undefined) port = redirect.port;
  else if (redirect.scheme !== undefined) port = redirect.scheme === 'https' ? 443 : 80;
  else port = input.listenerPort;
  const defaultPort = scheme === 'https' ? 443 : 80;
  const authority = port === defaultPort ? hostname : `${hostname}:${port}`;
  const path = modifyPath(input.path, redirect.path, input.match);
  return `${scheme}://${authority}${path}${input.query}`;
}
