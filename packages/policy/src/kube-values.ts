// Compiling the values of AuthorizationPolicy fields, with Istio's validation rules.
import { parseCidr } from '@ambient-ts/addresses';
import type { Cidr, PathMatcher, RequestPrincipalMatcher, ServiceAccountRef, StringMatcher } from './model.ts';
import { compilePathTemplate, containsPathTemplate } from './path.ts';
import { compileLowerCaseMatcher, compileStringMatcher } from './string-match.ts';

export type Compiled<T> = { ok: true; value: T; warning?: string } | { ok: false; reason: string };

const ok = <T>(value: T, warning?: string): Compiled<T> =>
  warning ? { ok: true, value, warning } : { ok: true, value };
const fail = (reason: string): Compiled<never> => ({ ok: false, reason });

export function compileString(value: string): Compiled<StringMatcher> {
  return ok(compileStringMatcher(value));
}

export function compilePrincipal(value: string): Compiled<StringMatcher> {
  const warning = value.startsWith('spiffe://')
    ? 'principals are written without "spiffe://" (Istio adds it), so this value can never match'
    : undefined;
  return ok(compileStringMatcher(value), warning);
}

export function compileHost(value: string): Compiled<StringMatcher> {
  return ok(compileLowerCaseMatcher(value));
}

export function compileMethod(value: string): Compiled<StringMatcher> {
  // Canonical comparison: methods are matched upper-cased on both sides (GHSA-w44g-8m76-8gc5).
  const upper = value.toUpperCase();
  const warning =
    upper !== value ? `method ${JSON.stringify(value)} is compared as ${JSON.stringify(upper)}` : undefined;
  return ok(compileStringMatcher(upper), warning);
}

export function compileCidr(value: string): Compiled<Cidr> {
  const cidr = parseCidr(value);
  if (cidr) return ok(cidr);
  return fail(
    value.includes('/') ? `bad CIDR range ${JSON.stringify(value)}` : `bad IP address ${JSON.stringify(value)}`,
  );
}

export function compilePort(value: string | number): Compiled<number> {
  const text = String(value);
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535)
    return fail(`bad port ${JSON.stringify(value)} (expected 0-65535)`);
  return ok(Number(text));
}

export function compilePath(value: string): Compiled<PathMatcher> {
  // Istio rejects "{" / "}" anywhere outside {*} / {**}, template or not.
  if (!containsPathTemplate(value) && !/[{}]/.test(value))
    return ok({ kind: 'string', matcher: compileStringMatcher(value), text: value });
  const compiled = compilePathTemplate(value);
  if (!compiled.ok) return fail(`invalid path template ${JSON.stringify(value)}: ${compiled.reason}`);
  return ok({ kind: 'template', regex: compiled.regex, text: value });
}

/** `ns/sa` or `sa` (namespace of the policy); no wildcards (Istio CheckServiceAccount). */
export function compileServiceAccount(value: string, policyNamespace: string): Compiled<ServiceAccountRef> {
  if (value.includes('*')) return fail(`wildcards are not allowed in service accounts, found ${JSON.stringify(value)}`);
  if (value.length > 320) return fail('a service account cannot exceed 320 characters');
  const parts = value.split('/');
  if (parts.length > 2 || parts.some((part) => part === '')) {
    return fail(`expected 'serviceAccount' or 'namespace/serviceAccount', found ${JSON.stringify(value)}`);
  }
  return parts.length === 2
    ? ok({ namespace: parts[0]!, serviceAccount: parts[1]! })
    : ok({ namespace: policyNamespace, serviceAccount: parts[0]! });
}

const matchAny: StringMatcher = { kind: 'presence' };

/** istiod's requestPrincipalGenerator: split at the last "/" (issuers are often URLs). */
export function compileRequestPrincipal(value: string): Compiled<RequestPrincipalMatcher> {
  const slash = value.lastIndexOf('/');
  const found = slash >= 0;
  const issuer = found ? value.slice(0, slash) : value;
  const subject = found ? value.slice(slash + 1) : '';
  const exact = (text: string): StringMatcher => ({ kind: 'exact', value: text });
  let matcher: { issuer: StringMatcher; subject: StringMatcher };
  if (value === '*') matcher = { issuer: matchAny, subject: matchAny };
  else if (value.startsWith('*')) {
    matcher = found
      ? { issuer: issuer === '*' ? matchAny : { kind: 'suffix', value: issuer.slice(1) }, subject: exact(subject) }
      : { issuer: matchAny, subject: { kind: 'suffix', value: value.slice(1) } };
  } else if (value.endsWith('*')) {
    matcher = found
      ? { issuer: exact(issuer), subject: subject === '*' ? matchAny : { kind: 'prefix', value: subject.slice(0, -1) } }
      : { issuer: { kind: 'prefix', value: value.slice(0, -1) }, subject: matchAny };
  } else {
    matcher = { issuer: exact(issuer), subject: exact(subject) };
  }
  return ok({ ...matcher, text: value });
}

/** `[a]` → ['a'], `[a][b]` → ['a', 'b']. */
export function parseBracketNames(text: string): string[] | undefined {
  const names: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const match = /^\[([^[\]]+)\]/.exec(rest);
    if (!match) return undefined;
    names.push(match[1]!);
    rest = rest.slice(match[0].length);
  }
  return names.length > 0 ? names : undefined;
}
