// SPIFFE IDs as the SPIFFE-ID specification defines them: spiffe://<trust domain><path>.
import { SpiffeError, type SpiffeErrorCode } from './errors.ts';

const scheme = 'spiffe://';
/** The spec asks validators to support IDs of up to 2048 bytes; longer ones are refused. */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** Trust domain names are limited to 255 bytes (a DNS name's length). */
export const MAX_TRUST_DOMAIN_BYTES = 255;

const trustDomainChar = /^[a-z0-9._-]$/;
const pathChar = /^[a-zA-Z0-9._-]$/;

type Result<T> = { ok: true; value: T } | { ok: false; code: SpiffeErrorCode; message: string };

function fail<T>(code: SpiffeErrorCode, text: string, rule: string): Result<T> {
  return { ok: false, code, message: `invalid SPIFFE ID ${JSON.stringify(text)}: ${rule}` };
}

function checkTrustDomain(name: string, text: string): Result<string> {
  if (name.length === 0) return fail('SPIFFE_ID_MISSING_TRUST_DOMAIN', text, 'trust domain is missing');
  if (name.includes('@')) return fail('SPIFFE_ID_HAS_USERINFO', text, 'user info is not allowed in the trust domain');
  if (name.includes(':')) return fail('SPIFFE_ID_HAS_PORT', text, 'a port is not allowed in the trust domain');
  if (Buffer.byteLength(name) > MAX_TRUST_DOMAIN_BYTES) {
    return fail('SPIFFE_ID_TRUST_DOMAIN_TOO_LONG', text, `trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`);
  }
  for (const char of name) {
    if (!trustDomainChar.test(char)) {
      const hint = /[A-Z]/.test(char) ? ' (upper case is not allowed)' : '';
      return fail(
        'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
        text,
        `trust domain character ${JSON.stringify(char)} is not one of lower-case letters, digits, ".", "-", "_"${hint}`,
      );
    }
  }
  return { ok: true, value: name };
}

function checkPath(path: string, text: string): Result<string> {
  if (path === '') return { ok: true, value: path };
  const segments = path.slice(1).split('/');
  for (const [index, segment] of segments.entries()) {
    if (segment === '') {
      return index === segments.length - 1
        ? fail('SPIFFE_ID_TRAILING_SLASH', text, 'path cannot have a trailing slash')
        : fail('SPIFFE_ID_EMPTY_SEGMENT', text, 'path cannot contain empty segments');
    }
    if (segment === '.' || segment === '..') {
      return fail('SPIFFE_ID_DOT_SEGMENT', text, `path cannot contain "${segment}" segments`);
    }
    for (const char of segment) {
      if (!pathChar.test(char)) {
        return fail(
          'SPIFFE_ID_BAD_PATH_CHAR',
          text,
          `path character ${JSON.stringify(char)} is not one of letters, digits, ".", "-", "_"`,
        );
      }
    }
  }
  return { ok: true, value: path };
}

function parseParts(text: string): Result<{ trustDomain: string; path: string }> {
  if (text.length === 0) return fail('SPIFFE_ID_EMPTY', text, 'it is empty');
  if (Buffer.byteLength(text) > MAX_SPIFFE_ID_BYTES) {
    return fail('SPIFFE_ID_TOO_LONG', text.slice(0, 64) + '…', `it is longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  }
  if (!text.startsWith(scheme)) return fail('SPIFFE_ID_WRONG_SCHEME', text, 'scheme must be "spiffe://"');
  const rest = text.slice(scheme.length);
  if (rest.includes('?')) return fail('SPIFFE_ID_HAS_QUERY', text, 'a query is not allowed');
  if (rest.includes('#')) return fail('SPIFFE_ID_HAS_FRAGMENT', text, 'a fragment is not allowed');
  if (rest.includes('%')) return fail('SPIFFE_ID_PERCENT_ENCODED', text, 'percent-encoded characters are not allowed');
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const trustDomain = checkTrustDomain(authority, text);
  if (!trustDomain.ok) return trustDomain;
  const checkedPath = checkPath(path, text);
  if (!checkedPath.ok) return checkedPath;
  return { ok: true, value: { trustDomain: authority, path } };
}

/** A validated SPIFFE ID. Instances are immutable; compare with `equals`. */
export class SpiffeId {
  /** e.g. `cluster.local` */
  readonly trustDomain: string;
  /** `''` for a trust-domain ID, otherwise `/seg/seg` without a trailing slash. */
  readonly path: string;

  private constructor(trustDomain: string, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
  }

  /** Parse and validate; throws `SpiffeError` naming the rule that was broken. */
  static parse(text: string): SpiffeId {
    const parsed = parseParts(text);
    if (!parsed.ok) throw new SpiffeError(parsed.code, parsed.message);
    return new SpiffeId(parsed.value.trustDomain, parsed.value.path);
  }

  /** Parse and validate; `undefined` instead of an error. */
  static tryParse(text: string): SpiffeId | undefined {
    const parsed = parseParts(text);
    return parsed.ok ? new SpiffeId(parsed.value.trustDomain, parsed.value.path) : undefined;
  }

  /** Build from a trust domain and path segments, validating both (`fromSegments('td', 'ns', 'x')`). */
  static fromSegments(trustDomain: string, ...segments: string[]): SpiffeId {
    const path = segments.length === 0 ? '' : `/${segments.join('/')}`;
    return SpiffeId.parse(`${scheme}${trustDomain}${path}`);
  }

  /** Path segments, e.g. `['ns', 'default', 'sa', 'web']`. */
  get segments(): string[] {
    return this.path === '' ? [] : this.path.slice(1).split('/');
  }

  /** True for `spiffe://<td>` with no path. */
  get isTrustDomainId(): boolean {
    return this.path === '';
  }

  /** Exact equality of trust domain and path (SPIFFE IDs have no wildcards or aliases). */
  equals(other: SpiffeId | string): boolean {
    return this.toString() === (typeof other === 'string' ? other : other.toString());
  }

  /** Whether this ID belongs to the given trust domain (a name like `cluster.local`, or another ID). */
  memberOf(trustDomain: string | SpiffeId): boolean {
    return this.trustDomain === (typeof trustDomain === 'string' ? trustDomain : trustDomain.trustDomain);
  }

  toString(): string {
    return `${scheme}${this.trustDomain}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Validate a bare trust domain name such as `cluster.local` (also accepts `spiffe://cluster.local`). */
export function parseTrustDomain(name: string): string {
  const text = name.startsWith(scheme) ? name : `${scheme}${name}`;
  const id = SpiffeId.parse(text);
  if (!id.isTrustDomainId) {
    throw new SpiffeError(
      'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR',
      `invalid trust domain ${JSON.stringify(name)}: it has a path`,
    );
  }
  return id.trustDomain;
}

/** Whether two IDs (or an ID and a trust domain name) share a trust domain. */
export function sameTrustDomain(a: SpiffeId | string, b: SpiffeId | string): boolean {
  const domainOf = (value: SpiffeId | string): string | undefined =>
    typeof value !== 'string'
      ? value.trustDomain
      : value.startsWith(scheme)
        ? SpiffeId.tryParse(value)?.trustDomain
        : value;
  const left = domainOf(a);
  return left !== undefined && left === domainOf(b);
}
