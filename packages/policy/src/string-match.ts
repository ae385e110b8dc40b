// Istio's string matching: exact `abc`, prefix `abc*`, suffix `*abc`, presence `*` (non-empty).
import type { StringMatcher } from './model.ts';

/** Compile an Istio policy value. Only a single leading or trailing `*` is special. */
export function compileStringMatcher(value: string): StringMatcher {
  if (value === '*') return { kind: 'presence' };
  if (value.startsWith('*')) return { kind: 'suffix', value: value.slice(1) };
  if (value.endsWith('*')) return { kind: 'prefix', value: value.slice(0, -1) };
  return { kind: 'exact', value };
}

/** Same, with both sides lower-cased (hosts are compared case-insensitively). */
export function compileLowerCaseMatcher(value: string): StringMatcher {
  return compileStringMatcher(value.toLowerCase());
}

export function matchString(matcher: StringMatcher, value: string): boolean {
  switch (matcher.kind) {
    case 'exact':
      return value === matcher.value;
    case 'prefix':
      return value.startsWith(matcher.value);
    case 'suffix':
      return value.endsWith(matcher.value);
    case 'presence':
      return value.length > 0;
  }
}

/** Back to Istio's notation, for explanations and round trips. */
export function formatStringMatcher(matcher: StringMatcher): string {
  switch (matcher.kind) {
    case 'exact':
      return matcher.value;
    case 'prefix':
      return `${matcher.value}*`;
    case 'suffix':
      return `*${matcher.value}`;
    case 'presence':
      return '*';
  }
}
