// Finding JWTs in a request: the rule's header/param/cookie locations, or the default locations
// (`Authorization: Bearer <token>`, then the `access_token` query parameter).
import type { HeaderValue } from '../attributes.ts';
import type { JwtRule } from './request-authn.ts';

export interface TokenRequest {
  readonly method?: string;
  /** Raw `:path` (query parameters are token locations). */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
}

export interface FoundToken {
  readonly token: string;
  /** e.g. `header:authorization`, `param:access_token`, `cookie:session`. */
  readonly location: string;
  /** The header to remove when the token must not be forwarded (header locations only, as Envoy). */
  readonly header?: string;
}

function headerText(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  return (value as readonly string[])[0];
}

export class RequestView {
  readonly #headers = new Map<string, string>();
  readonly #query: URLSearchParams;
  #cookies: Map<string, string> | undefined;

  constructor(request: TokenRequest) {
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      const text = headerText(value);
      if (text !== undefined && !this.#headers.has(name.toLowerCase())) this.#headers.set(name.toLowerCase(), text);
    }
    const path = request.path ?? '';
    const query = path.indexOf('?');
    this.#query = new URLSearchParams(query === -1 ? '' : path.slice(query + 1).split('#')[0]);
  }

  header(name: string): string | undefined {
    return this.#headers.get(name);
  }

  param(name: string): string | undefined {
    return this.#query.get(name) ?? undefined;
  }

  cookie(name: string): string | undefined {
    if (!this.#cookies) {
      this.#cookies = new Map();
      for (const part of (this.#headers.get('cookie') ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq === -1) continue;
        const key = part.slice(0, eq).trim();
        if (!this.#cookies.has(key)) this.#cookies.set(key, part.slice(eq + 1).trim());
      }
    }
    return this.#cookies.get(name);
  }
}

function fromHeader(
  view: RequestView,
  name: string,
  prefix: string,
  caseInsensitivePrefix: boolean,
): FoundToken | undefined {
  const value = view.header(name);
  if (value === undefined) return undefined;
  let token = value;
  if (prefix) {
    const head = value.slice(0, prefix.length);
    const matches = caseInsensitivePrefix ? head.toLowerCase() === prefix.toLowerCase() : head === prefix;
    if (!matches) return undefined;
    token = value.slice(prefix.length);
  }
  token = token.trim();
  return token ? { token, location: `header:${name}`, header: name } : undefined;
}

/** Tokens at the rule's locations (defaults when it names none), in location order. */
export function findTokens(rule: JwtRule, view: RequestView): FoundToken[] {
  const found: FoundToken[] = [];
  const custom = rule.fromHeaders.length > 0 || rule.fromParams.length > 0 || rule.fromCookies.length > 0;
  if (!custom) {
    // RFC 6750: the auth scheme is case-insensitive.
    const bearer = fromHeader(view, 'authorization', 'Bearer ', true);
    if (bearer) found.push(bearer);
    const param = view.param('access_token');
    if (param) found.push({ token: param, location: 'param:access_token' });
    return found;
  }
  for (const location of rule.fromHeaders) {
    const token = fromHeader(view, location.name, location.prefix, false);
    if (token) found.push(token);
  }
  for (const name of rule.fromParams) {
    const token = view.param(name);
    if (token) found.push({ token, location: `param:${name}` });
  }
  for (const name of rule.fromCookies) {
    const token = view.cookie(name);
    if (token) found.push({ token, location: `cookie:${name}` });
  }
  return found;
}
