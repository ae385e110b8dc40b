// Conditions compiled into small specialized closures, once per condition: this is the one place that
// defines what a condition means (three-valued: an attribute that exists but cannot be evaluated gives
// UNKNOWN, which the policy's action later resolves to the restrictive side).
import type { Prepared } from './attributes.ts';
import { cidrContains, type IpAddress } from '@ambient-ts/addresses';
import type { Cidr, Condition, PathMatcher, RequestPrincipalMatcher, StringMatcher } from './model.ts';
import { matchString } from './string-match.ts';

export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Tri = 0 | 1 | 2;
export type Test = (prepared: Prepared) => Tri;

type StringTest = (value: string) => boolean;

/** Any of the matchers; exact-only lists become a comparison or a Set lookup. */
function stringTest(values: readonly StringMatcher[]): StringTest {
  if (values.every((value) => value.kind === 'exact')) {
    const exact = values.map((value) => (value as { value: string }).value);
    if (exact.length === 1) {
      const only = exact[0]!;
      return (value) => value === only;
    }
    const set = new Set(exact);
    return (value) => set.has(value);
  }
  return (value) => {
    for (const matcher of values) if (matchString(matcher, value)) return true;
    return false;
  };
}

/** Claim values as strings: a string, or the string elements of a list; space-split when asked. */
export function claimStrings(value: unknown, split: boolean): string[] {
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

export function lookupClaim(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let current: unknown = claims;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `host:port` → `host` (bracketed IPv6 keeps its brackets; a bare IPv6 has no port). */
function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1 || host.endsWith(']')) return host;
  if (!host.startsWith('[') && host.indexOf(':') !== colon) return host;
  return /^[0-9]+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

function v4Number(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** IPv4 blocks become (network, mask) integer pairs; IPv6 keeps the byte comparison. */
function cidrTest(values: readonly Cidr[]): (ip: IpAddress) => boolean {
  const v4 = values.filter((cidr) => cidr.family === 4);
  const v6 = values.filter((cidr) => cidr.family === 6);
  const masks = v4.map((cidr) => (cidr.prefixLength === 0 ? 0 : (0xffffffff << (32 - cidr.prefixLength)) >>> 0));
  const networks = v4.map((cidr, i) => (v4Number(cidr.bytes) & masks[i]!) >>> 0);
  return (ip) => {
    if (ip.family === 4) {
      const value = v4Number(ip.bytes);
      for (let i = 0; i < networks.length; i++) if ((value & masks[i]!) >>> 0 === networks[i]) return true;
      return false;
    }
    for (const cidr of v6) if (cidrContains(cidr, ip)) return true;
    return false;
  };
}

function pathTest(values: readonly PathMatcher[]): StringTest {
  return (path) => {
    for (const matcher of values) {
      if (matcher.kind === 'string' ? matchString(matcher.matcher, path) : matcher.regex.test(path)) return true;
    }
    return false;
  };
}

function principalTest(values: readonly RequestPrincipalMatcher[]): (issuer: string, subject: string) => boolean {
  return (issuer, subject) => {
    for (const matcher of values)
      if (matchString(matcher.issuer, issuer) && matchString(matcher.subject, subject)) return true;
    return false;
  };
}

const anyOf = (test: StringTest, values: readonly string[]): boolean => {
  for (const value of values) if (test(value)) return true;
  return false;
};

/** "Does any of the condition's values match?" (before negation). */
function positive(condition: Condition): Test {
  switch (condition.attribute) {
    // One closure literal per attribute: a shared literal with a variable property key would make V8's
    // property loads megamorphic across all conditions.
    case 'source.principal': {
      const test = stringTest(condition.values);
      return (p) => {
        const peer = p.peer;
        if (!peer.ok) return UNKNOWN;
        return peer.value !== undefined && test(peer.value.principal) ? TRUE : FALSE;
      };
    }
    case 'source.namespace': {
      const test = stringTest(condition.values);
      return (p) => {
        const peer = p.peer;
        if (!peer.ok) return UNKNOWN;
        const value = peer.value?.namespace;
        return value !== undefined && test(value) ? TRUE : FALSE;
      };
    }
    case 'source.trustDomain': {
      const test = stringTest(condition.values);
      return (p) => {
        const peer = p.peer;
        if (!peer.ok) return UNKNOWN;
        const value = peer.value?.trustDomain;
        return value !== undefined && test(value) ? TRUE : FALSE;
      };
    }
    case 'source.serviceAccount': {
      const keys = new Set(condition.values.map((sa) => `${sa.namespace}/${sa.serviceAccount}`));
      return (p) => {
        const peer = p.peer;
        if (!peer.ok) return UNKNOWN;
        const value = peer.value;
        if (value?.namespace === undefined) return FALSE;
        return keys.has(`${value.namespace}/${value.serviceAccount}`) ? TRUE : FALSE;
      };
    }
    case 'source.ip': {
      const test = cidrTest(condition.values);
      return (p) => {
        const attr = p.sourceIp;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'remote.ip': {
      const test = cidrTest(condition.values);
      return (p) => {
        const attr = p.remoteIp;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'destination.ip': {
      const test = cidrTest(condition.values);
      return (p) => {
        const attr = p.destinationIp;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'destination.port': {
      const ports = condition.values;
      return (p) => {
        const attr = p.destinationPort;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && ports.includes(attr.value) ? TRUE : FALSE;
      };
    }
    case 'connection.sni': {
      const test = stringTest(condition.values);
      return (p) => (p.sni !== undefined && test(p.sni) ? TRUE : FALSE);
    }
    case 'request.method': {
      const test = stringTest(condition.values);
      return (p) => {
        const attr = p.method;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'request.host': {
      const test = stringTest(condition.values);
      return (p) => {
        const attr = p.host;
        if (!attr.ok) return UNKNOWN;
        if (attr.value === undefined) return FALSE;
        if (test(attr.value)) return TRUE;
        const bare = stripPort(attr.value); // a policy host without a port matches any port
        return bare !== attr.value && test(bare) ? TRUE : FALSE;
      };
    }
    case 'request.path': {
      const test = pathTest(condition.values);
      return (p) => {
        const attr = p.path;
        if (!attr.ok) return UNKNOWN;
        return attr.value !== undefined && test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'request.headers': {
      const name = condition.header;
      // `*` on a header means "present" (Envoy present_match), even with an empty value.
      const present = condition.values.some((value) => value.kind === 'presence');
      const test = stringTest(condition.values);
      return (p) => {
        const attr = p.header(name);
        if (!attr.ok) return UNKNOWN;
        if (attr.value === undefined) return FALSE;
        return present || test(attr.value) ? TRUE : FALSE;
      };
    }
    case 'request.auth.principal': {
      const test = principalTest(condition.values);
      return (p) => {
        const parts = p.requestPrincipal;
        return parts !== undefined && test(parts.issuer, parts.subject) ? TRUE : FALSE;
      };
    }
    case 'request.auth.audiences': {
      const test = stringTest(condition.values);
      return (p) => {
        const auth = p.auth;
        return anyOf(test, auth?.audiences ?? claimStrings(auth?.claims?.['aud'], false)) ? TRUE : FALSE;
      };
    }
    case 'request.auth.presenter': {
      const test = stringTest(condition.values);
      return (p) => {
        const auth = p.auth;
        const azp = auth?.claims?.['azp'];
        const value = auth?.presenter ?? (typeof azp === 'string' ? azp : undefined);
        return value !== undefined && test(value) ? TRUE : FALSE;
      };
    }
    case 'request.auth.claims': {
      const test = stringTest(condition.values);
      const path = condition.claim;
      const split = path.length === 1 && (path[0] === 'scope' || path[0] === 'permission');
      return (p) => (anyOf(test, claimStrings(lookupClaim(p.auth?.claims, path), split)) ? TRUE : FALSE);
    }
  }
}

export function compileCondition(condition: Condition): Test {
  const any = positive(condition);
  if (!condition.negated) return any;
  return (p) => {
    const value = any(p);
    return value === UNKNOWN ? UNKNOWN : value === TRUE ? FALSE : TRUE;
  };
}

const tests = new WeakMap<Condition, Test>();

/** Evaluate one condition (compiled once and cached). */
export function evalCondition(condition: Condition, prepared: Prepared): Tri {
  let test = tests.get(condition);
  if (!test) {
    test = compileCondition(condition);
    tests.set(condition, test);
  }
  return test(prepared);
}
