import { describe, expect, it } from 'vitest';
import { compilePathTemplate, normalizePath } from './path.ts';

describe('normalizePath', () => {
  it.each([
    ['/a/b?x=1', 'BASE', '/a/b'],
    ['/a/../b', 'BASE', '/b'],
    ['/a/./b/', 'BASE', '/a/b/'],
    ['/../../etc/passwd', 'BASE', '/etc/passwd'],
    ['/a/%2e%2e/admin', 'BASE', '/admin'],
    ['/%61dmin', 'BASE', '/admin'],
    ['/a%2fb', 'BASE', '/a%2Fb'],
    ['/a\\..\\admin', 'BASE', '/admin'],
    ['//admin//x', 'BASE', '//admin//x'],
    ['//admin//x', 'MERGE_SLASHES', '/admin/x'],
    ['/a%2F%2Fadmin', 'MERGE_SLASHES', '/a%2F%2Fadmin'],
    ['/x/..%2Fadmin', 'DECODE_AND_MERGE_SLASHES', '/admin'],
    ['/a%2F%2Fadmin', 'DECODE_AND_MERGE_SLASHES', '/a/admin'],
    ['/a/../b', 'NONE', '/a/../b'],
    ['*', 'BASE', '*'],
    ['/a#frag', 'BASE', '/a'],
  ] as const)('%s (%s) → %s', (raw, mode, expected) => {
    expect(normalizePath(raw, mode)).toEqual({ ok: true, path: expected });
  });

  it.each(['a/b', '', '/a b', '/a\u0000b', '/caf\u00e9', '/%zz', '/%4'])('refuses %j', (raw) => {
    expect(normalizePath(raw).ok).toBe(false);
  });
});

describe('path templates ({*} one segment, {**} the rest)', () => {
  const matches = (template: string, path: string) => {
    const compiled = compilePathTemplate(template);
    if (!compiled.ok) throw new Error(compiled.reason);
    return compiled.regex.test(path);
  };

  it.each([
    ['/foo/{*}', '/foo/bar', true],
    ['/foo/{*}', '/foo/bar/baz', false],
    ['/foo/{*}', '/foo/', false],
    ['/foo/{**}', '/foo/bar/baz', true],
    ['/foo/{**}', '/foo/', true],
    ['/foo/{**}', '/foo', false],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/something/else', true],
    ['/foo/{*}/bar', '/foo/a.b/bar', true],
    ['/{*}/x.txt', '/a/xxtxt', false],
    ['/api/v1/{*}/items/{**}', '/api/v1/u1/items/', true],
  ])('%s ~ %s = %s', (template, path, expected) => {
    expect(matches(template, path)).toBe(expected);
  });

  it.each([
    ['/foo/{**}/{*}', '{**} must be the last operator'],
    ['/foo/{**}/bar/{**}', '{**} must be the last operator'],
    ['/foo/{bar}', 'outside {*} or {**}'],
    ['/foo{*}', 'outside {*} or {**}'],
    ['/foo//{*}', 'cannot contain "//"'],
    ['foo/{*}', 'must start with "/"'],
    ['/foo/{*}/a"b', 'does not allow'],
  ])('rejects %s', (template, reason) => {
    const compiled = compilePathTemplate(template);
    expect(compiled.ok).toBe(false);
    expect(compiled.ok ? '' : compiled.reason).toContain(reason);
  });
});
