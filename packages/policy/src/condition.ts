// One condition against prepared attributes, in three-valued logic: an attribute that exists but
// cannot be evaluated (bad path, non-UTF-8 header, …) yields UNKNOWN, which the policy's action
// later resolves to the restrictive side (fail closed), whatever the negation.
import type { Attr, Prepared } from './attributes.ts';
import { cidrContains, formatCidr, formatIp, type IpAddress } from './ip.ts';
import type { Cidr, Condition, PathMatcher, RequestPrincipalMatcher, StringMatcher } from './model.ts';
import { formatStringMatcher, matchString } from './string-match.ts';

export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Tri = 0 | 1 | 2;

function anyString(values: readonly StringMatcher[], value: string | undefined): boolean {
  if (value === undefined) return false;
  for (const matcher of values) if (matchString(matcher, value)) return true;
  return false;
}

function anyOf(values: readonly StringMatcher[], candidates: readonly string[]): boolean {
  for (const candidate of candidates) if (anyString(values, candidate)) return true;
  return false;
}

function anyCidr(values: readonly Cidr[], ip: IpAddress | undefined): boolean {
  if (!ip) return false;
  for (const cidr of values) if (cidrContains(cidr, ip)) return true;
  return false;
}

/** `host:port` → `host` (bracketed IPv6 keeps its brackets). */
function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1 || host.endsWith(']')) return host;
  if (host.startsWith('[') || host.indexOf(':') === colon) {
    return /^[0-9]+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
  }
  return host; // bare IPv6 without brackets: no port to strip
}

function matchPath(matcher: PathMatcher, path: string): boolean {
  return matcher.kind === 'string' ? matchString(matcher.matcher, path) : matcher.regex.test(path);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Claim values as strings: a string, or the string elements of a list; space-split when asked. */
function claimStrings(value: unknown, split: boolean): string[] {
  const out: string[] = [];
  const add = (item: unknown) => {
    if (typeof item !== 'string') return;
    out.push(item);
    if (split && item.includes(' ')) for (const part of item.split(' ')) if (part) out.push(part);
  };
  if (Array.isArray(value)) for (const item of value) add(item);
  else add(value);
  return out;
}

function lookupClaim(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let current: unknown = claims;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function requestPrincipalParts(prepared: Prepared): { issuer: string; subject: string } | undefined {
  const auth = prepared.auth;
  if (!auth) return undefined;
  const issuer = stringClaim(auth.claims?.['iss']);
  const subject = stringClaim(auth.claims?.['sub']);
  if (issuer !== undefined && subject !== undefined) return { issuer, subject };
  if (auth.principal === undefined) return undefined;
  const slash = auth.principal.lastIndexOf('/');
  return slash === -1 ? undefined : { issuer: auth.principal.slice(0, slash), subject: auth.principal.slice(slash + 1) };
}

function matchRequestPrincipal(matcher: RequestPrincipalMatcher, parts: { issuer: string; subject: string }): boolean {
  return matchString(matcher.issuer, parts.issuer) && matchString(matcher.subject, parts.subject);
}

const UNKNOWN_ATTR = Symbol('unknown');
function known<T>(attr: Attr<T>): T | undefined | typeof UNKNOWN_ATTR {
  return attr.ok ? attr.value : UNKNOWN_ATTR;
}

/** Does any of the condition's values match? UNKNOWN when the attribute cannot be evaluated. */
function anyValueMatches(condition: Condition, prepared: Prepared): Tri {
  switch (condition.attribute) {
    case 'source.principal':
    case 'source.namespace':
    case 'source.trustDomain': {
      const peer = known(prepared.peer);
      if (peer === UNKNOWN_ATTR) return UNKNOWN;
      const value =
        condition.attribute === 'source.principal'
          ? peer?.principal
          : condition.attribute === 'source.namespace'
            ? peer?.namespace
            : peer?.trustDomain;
      return anyString(condition.values, value) ? TRUE : FALSE;
    }
    case 'source.serviceAccount': {
      const peer = known(prepared.peer);
      if (peer === UNKNOWN_ATTR) return UNKNOWN;
      if (peer?.namespace === undefined) return FALSE;
      for (const sa of condition.values) {
        if (sa.namespace === peer.namespace && sa.serviceAccount === peer.serviceAccount) return TRUE;
      }
      return FALSE;
    }
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip': {
      const attr =
        condition.attribute === 'source.ip'
          ? prepared.sourceIp
          : condition.attribute === 'remote.ip'
            ? prepared.remoteIp
            : prepared.destinationIp;
      if (!attr.ok) return UNKNOWN;
      return anyCidr(condition.values, attr.value) ? TRUE : FALSE;
    }
    case 'destination.port': {
      const attr = prepared.destinationPort;
      if (!attr.ok) return UNKNOWN;
      return attr.value !== undefined && condition.values.includes(attr.value) ? TRUE : FALSE;
    }
    case 'connection.sni':
      return anyString(condition.values, prepared.sni) ? TRUE : FALSE;
    case 'request.method': {
      const attr = prepared.method;
      if (!attr.ok) return UNKNOWN;
      return anyString(condition.values, attr.value) ? TRUE : FALSE;
    }
    case 'request.host': {
      const attr = prepared.host;
      if (!attr.ok) return UNKNOWN;
      if (attr.value === undefined) return FALSE;
      if (anyString(condition.values, attr.value)) return TRUE;
      const bare = stripPort(attr.value);
      return bare !== attr.value && anyString(condition.values, bare) ? TRUE : FALSE;
    }
    case 'request.path': {
      const attr = prepared.path;
      if (!attr.ok) return UNKNOWN;
      if (attr.value === undefined) return FALSE;
      for (const matcher of condition.values) if (matchPath(matcher, attr.value)) return TRUE;
      return FALSE;
    }
    case 'request.headers': {
      const attr = prepared.header(condition.header);
      if (!attr.ok) return UNKNOWN;
      if (attr.value === undefined) return FALSE;
      for (const matcher of condition.values) {
        // `*` on a header means "present" (Envoy present_match), even with an empty value.
        if (matcher.kind === 'presence' || matchString(matcher, attr.value)) return TRUE;
      }
      return FALSE;
    }
    case 'request.auth.principal': {
      const parts = requestPrincipalParts(prepared);
      if (!parts) return FALSE;
      for (const matcher of condition.values) if (matchRequestPrincipal(matcher, parts)) return TRUE;
      return FALSE;
    }
    case 'request.auth.audiences': {
      const auth = prepared.auth;
      const audiences = auth?.audiences ?? claimStrings(auth?.claims?.['aud'], false);
      return anyOf(condition.values, audiences) ? TRUE : FALSE;
    }
    case 'request.auth.presenter': {
      const auth = prepared.auth;
      return anyString(condition.values, auth?.presenter ?? stringClaim(auth?.claims?.['azp'])) ? TRUE : FALSE;
    }
    case 'request.auth.claims': {
      const value = lookupClaim(prepared.auth?.claims, condition.claim);
      const split = condition.claim.length === 1 && (condition.claim[0] === 'scope' || condition.claim[0] === 'permission');
      return anyOf(condition.values, claimStrings(value, split)) ? TRUE : FALSE;
    }
  }
}

export function evalCondition(condition: Condition, prepared: Prepared): Tri {
  const any = anyValueMatches(condition, prepared);
  if (any === UNKNOWN) return UNKNOWN;
  return condition.negated ? (any === TRUE ? FALSE : TRUE) : any;
}

/** The condition's values in Istio notation, for explanations. */
export function describeValues(condition: Condition): string[] {
  switch (condition.attribute) {
    case 'source.serviceAccount':
      return condition.values.map((sa) => `${sa.namespace}/${sa.serviceAccount}`);
    case 'source.ip':
    case 'remote.ip':
    case 'destination.ip':
      return condition.values.map(formatCidr);
    case 'destination.port':
      return condition.values.map(String);
    case 'request.path':
    case 'request.auth.principal':
      return condition.values.map((value) => value.text);
    default:
      return condition.values.map(formatStringMatcher);
  }
}

function show<T>(attr: Attr<T>, format: (value: T) => string): string {
  if (!attr.ok) return `<unusable: ${attr.reason}>`;
  return attr.value === undefined ? '<absent>' : format(attr.value);
}

/** The request's value for the condition's attribute, for explanations. */
export function describeActual(condition: Condition, prepared: Prepared): string {
  switch (condition.attribute) {
    case 'source.principal':
      return show(prepared.peer, (peer) => peer.principal);
    case 'source.namespace':
      return show(prepared.peer, (peer) => peer.namespace ?? '<none>');
    case 'source.trustDomain':
      return show(prepared.peer, (peer) => peer.trustDomain ?? '<none>');
    case 'source.serviceAccount':
      return show(prepared.peer, (peer) => `${peer.namespace ?? ''}/${peer.serviceAccount ?? ''}`);
    case 'source.ip':
      return show(prepared.sourceIp, formatIp);
    case 'remote.ip':
      return show(prepared.remoteIp, formatIp);
    case 'destination.ip':
      return show(prepared.destinationIp, formatIp);
    case 'destination.port':
      return show(prepared.destinationPort, String);
    case 'connection.sni':
      return prepared.sni ?? '<absent>';
    case 'request.method':
      return show(prepared.method, (value) => value);
    case 'request.host':
      return show(prepared.host, (value) => value);
    case 'request.path':
      return show(prepared.path, (value) => value);
    case 'request.headers':
      return show(prepared.header(condition.header), (value) => value);
    case 'request.auth.principal':
      return prepared.auth?.principal ?? '<no request principal>';
    case 'request.auth.audiences':
      return JSON.stringify(prepared.auth?.audiences ?? prepared.auth?.claims?.['aud'] ?? null);
    case 'request.auth.presenter':
      return prepared.auth?.presenter ?? String(prepared.auth?.claims?.['azp'] ?? '<absent>');
    case 'request.auth.claims':
      return JSON.stringify(lookupClaim(prepared.auth?.claims, condition.claim) ?? null);
  }
}
