import { describe, expect, it } from 'vitest';
import type { PathMatch } from './model.ts';
import { applyHeaderModifier, modifyPath, redirectLocation, replacePrefix, type HeaderMap } from './filters.ts';

describe('ReplacePrefixMatch (the Gateway API HTTPPathModifier table)', () => {
  it.each([
    ['/foo', '/foo/bar', '/xyz', '/xyz/bar'],
    ['/foo', '/foo/bar', '/xyz/', '/xyz/bar'],
    ['/foo/', '/foo/bar', '/xyz', '/xyz/bar'],
    ['/foo/', '/foo/bar', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo', '/foo/', '/xyz', '/xyz/'],
    ['/foo/', '/foo/', '/xyz', '/xyz/'],
    ['/foo', '/foo', '/', '/'],
    ['/foo', '/foo/', '/', '/'],
    ['/foo', '/foo/bar', '/', '/bar'],
    ['/prefix', '/prefix/one/two', '/', '/one/two'],
    ['/strip-prefix', '/strip-prefix', '/', '/'],
    ['/', '/foo', '/xyz', '/xyz/foo'],
  ])('prefix %s, path %s, replacement %s → %s', (prefix, path, replacement, expected) => {
    expect(replacePrefix(path, prefix, replacement)).toBe(expected);
  });

  it('ReplaceFullPath replaces the whole path', () => {
    const match: PathMatch = { type: 'PathPrefix', value: '/a' };
    expect(modifyPath('/a/b', { type: 'ReplaceFullPath', value: '/full' }, match)).toBe('/full');
  });
});

describe('RequestRedirect Location', () => {
  const base = {
    scheme: 'http' as const,
    host: 'echo',
    listenerPort: 80,
    path: '/original-prefix/lemon',
    query: '',
    match: { type: 'PathPrefix', value: '/original-prefix' } as PathMatch,
  };

  it('defaults to the request and omits the well-known port', () => {
    expect(redirectLocation({ hostname: 'example.org', statusCode: 302 }, base)).toBe(
      'http://example.org/original-prefix/lemon',
    );
  });

  it('a scheme change implies its port; an explicit port is kept', () => {
    expect(redirectLocation({ scheme: 'https', statusCode: 302 }, base)).toBe('https://echo/original-prefix/lemon');
    expect(redirectLocation({ port: 8083, statusCode: 302 }, base)).toBe('http://echo:8083/original-prefix/lemon');
    expect(redirectLocation({ scheme: 'https', port: 443, statusCode: 302 }, base)).toBe(
      'https://echo/original-prefix/lemon',
    );
    expect(redirectLocation({ statusCode: 302 }, { ...base, listenerPort: 8080 })).toBe(
      'http://echo:8080/original-prefix/lemon',
    );
  });

  it('rewrites the path and keeps the query', () => {
    const redirect = {
      path: { type: 'ReplacePrefixMatch' as const, value: '/replacement-prefix' },
      statusCode: 301 as const,
    };
    expect(redirectLocation(redirect, { ...base, query: '?a=1' })).toBe('http://echo/replacement-prefix/lemon?a=1');
  });
});

describe('header modifiers', () => {
  it('set overwrites, add appends comma-joined, remove deletes', () => {
    const headers: HeaderMap = { 'x-a': 'old', 'x-b': 'one', 'x-c': 'gone' };
    applyHeaderModifier(headers, {
      set: [{ name: 'x-a', value: 'new' }],
      add: [
        { name: 'x-b', value: 'two' },
        { name: 'x-d', value: 'fresh' },
      ],
      remove: ['x-c'],
    });
    expect(headers).toEqual({ 'x-a': 'new', 'x-b': 'one,two', 'x-d': 'fresh' });
  });
});
