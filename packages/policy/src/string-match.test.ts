import { describe, expect, it } from 'vitest';
import { compileStringMatcher, formatStringMatcher, matchString } from './string-match.ts';

describe('Istio string matching', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc*', 'abcd', true],
    ['abc*', 'xabc', false],
    ['*abc', 'xabc', true],
    ['*abc', 'abcx', false],
    ['*', 'x', true],
    ['*', '', false],
    ['a*c', 'abc', false], // only a leading or trailing * is special: a*c is exact
    ['a*c', 'a*c', true],
  ])('%j ~ %j = %s', (pattern, value, expected) => {
    expect(matchString(compileStringMatcher(pattern), value)).toBe(expected);
  });

  it('round-trips to Istio notation', () => {
    for (const text of ['abc', 'abc*', '*abc', '*']) expect(formatStringMatcher(compileStringMatcher(text))).toBe(text);
  });
});
