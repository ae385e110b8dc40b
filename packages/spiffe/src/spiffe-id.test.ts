import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpiffeError } from './errors.ts';
import { SpiffeId, parseTrustDomain, sameTrustDomain } from './spiffe-id.ts';

describe('SpiffeId.parse accepts valid IDs', () => {
  it.each([
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://cluster.local/ns/default/sa/web', 'cluster.local', '/ns/default/sa/web'],
    ['spiffe://a-b_c.d9/Path.With-Mixed_Case/x', 'a-b_c.d9', '/Path.With-Mixed_Case/x'],
    ['spiffe://td/...', 'td', '/...'],
    ['spiffe://td/a..b', 'td', '/a..b'],
    ['spiffe://1.2.3.4/x', '1.2.3.4', '/x'],
  ])('%s', (text, trustDomain, path) => {
    const id = SpiffeId.parse(text);
    expect(id.trustDomain).toBe(trustDomain);
    expect(id.path).toBe(path);
    expect(id.toString()).toBe(text);
    expect(JSON.stringify({ id })).toBe(JSON.stringify({ id: text }));
  });
});

describe('SpiffeId.parse rejects what the spec forbids, naming the rule', () => {
  const long = `spiffe://td/${'a/'.repeat(1100)}a`;
  it.each([
    ['', 'SPIFFE_ID_EMPTY', /empty/],
    ['http://example.org/x', 'SPIFFE_ID_WRONG_SCHEME', /scheme/],
    ['SPIFFE://example.org/x', 'SPIFFE_ID_WRONG_SCHEME', /scheme/],
    ['spiffe:/example.org', 'SPIFFE_ID_WRONG_SCHEME', /scheme/],
    ['example.org/x', 'SPIFFE_ID_WRONG_SCHEME', /scheme/],
    ['spiffe://', 'SPIFFE_ID_MISSING_TRUST_DOMAIN', /trust domain is missing/],
    ['spiffe:///path', 'SPIFFE_ID_MISSING_TRUST_DOMAIN', /trust domain is missing/],
    ['spiffe://Example.org/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', /upper case/],
    ['spiffe://exa$mple.org/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', /"\$"/],
    ['spiffe://exa mple/x', 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR', /" "/],
    ['spiffe://example.org:8080/x', 'SPIFFE_ID_HAS_PORT', /port/],
    ['spiffe://user@example.org/x', 'SPIFFE_ID_HAS_USERINFO', /user info/],
    ['spiffe://user:pw@example.org/x', 'SPIFFE_ID_HAS_USERINFO', /user info/],
    ['spiffe://example.org/x?q=1', 'SPIFFE_ID_HAS_QUERY', /query/],
    ['spiffe://example.org/x#frag', 'SPIFFE_ID_HAS_FRAGMENT', /fragment/],
    ['spiffe://example.org/a%20b', 'SPIFFE_ID_PERCENT_ENCODED', /percent/],
    ['spiffe://example.org//x', 'SPIFFE_ID_EMPTY_SEGMENT', /empty segments/],
    ['spiffe://example.org/a//b', 'SPIFFE_ID_EMPTY_SEGMENT', /empty segments/],
    ['spiffe://example.org/./x', 'SPIFFE_ID_DOT_SEGMENT', /"\." segments/],
    ['spiffe://example.org/a/..', 'SPIFFE_ID_DOT_SEGMENT', /"\.\." segments/],
    ['spiffe://example.org/', 'SPIFFE_ID_TRAILING_SLASH', /trailing slash/],
    ['spiffe://example.org/a/b/', 'SPIFFE_ID_TRAILING_SLASH', /trailing slash/],
    ['spiffe://example.org/a b', 'SPIFFE_ID_BAD_PATH_CHAR', /" "/],
    ['spiffe://example.org/a*b', 'SPIFFE_ID_BAD_PATH_CHAR', /"\*"/],
    ['spiffe://example.org/ümlaut', 'SPIFFE_ID_BAD_PATH_CHAR', /"ü"/],
    [long, 'SPIFFE_ID_TOO_LONG', /2048 bytes/],
    [`spiffe://${'a'.repeat(256)}/x`, 'SPIFFE_ID_TRUST_DOMAIN_TOO_LONG', /255 bytes/],
  ])('%s → %s', (text, code, message) => {
    let thrown: unknown;
    try {
      SpiffeId.parse(text);
    } catch (error) {
      thrown = error;
    }
    expect(SpiffeError.isSpiffeError(thrown)).toBe(true);
    expect((thrown as SpiffeError).code).toBe(code);
    expect((thrown as SpiffeError).message).toMatch(message);
    expect(SpiffeId.tryParse(text)).toBeUndefined();
  });

  it('accepts an ID of exactly 2048 bytes', () => {
    const prefix = 'spiffe://td/';
    const text = prefix + 'a'.repeat(2048 - prefix.length);
    expect(SpiffeId.parse(text).toString()).toHaveLength(2048);
  });
});

describe('SpiffeId helpers', () => {
  it('builds from segments with validation', () => {
    expect(SpiffeId.fromSegments('td', 'ns', 'x').toString()).toBe('spiffe://td/ns/x');
    expect(() => SpiffeId.fromSegments('td', 'a/b', '')).toThrowError(/empty segments|trailing slash/);
    expect(SpiffeId.fromSegments('td').isTrustDomainId).toBe(true);
  });

  it('compares exactly and by trust domain', () => {
    const a = SpiffeId.parse('spiffe://td/ns/a/sa/b');
    expect(a.equals('spiffe://td/ns/a/sa/b')).toBe(true);
    expect(a.equals(SpiffeId.parse('spiffe://td/ns/a/sa/B'))).toBe(false);
    expect(a.memberOf('td')).toBe(true);
    expect(a.memberOf(SpiffeId.parse('spiffe://other/x'))).toBe(false);
    expect(sameTrustDomain(a, 'spiffe://td/other')).toBe(true);
    expect(sameTrustDomain(a, 'td')).toBe(true);
    expect(sameTrustDomain('spiffe://td2/x', a)).toBe(false);
    expect(sameTrustDomain('not an id://', a)).toBe(false);
  });

  it('validates bare trust domain names', () => {
    expect(parseTrustDomain('cluster.local')).toBe('cluster.local');
    expect(parseTrustDomain('spiffe://cluster.local')).toBe('cluster.local');
    expect(() => parseTrustDomain('Cluster.local')).toThrowError(/upper case/);
    expect(() => parseTrustDomain('spiffe://td/x')).toThrowError(/has a path/);
  });

  it('round-trips every ID built from valid parts (property)', () => {
    const tdChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_'.split(''));
    const pathChar = fc.constantFrom(...'abcXYZ0189.-_'.split(''));
    const segment = fc.string({ unit: pathChar, minLength: 1, maxLength: 8 }).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(
        fc.string({ unit: tdChar, minLength: 1, maxLength: 20 }),
        fc.array(segment, { maxLength: 5 }),
        (td, segments) => {
          const id = SpiffeId.fromSegments(td, ...segments);
          expect(SpiffeId.parse(id.toString()).equals(id)).toBe(true);
          expect(id.segments).toEqual(segments);
        },
      ),
    );
  });

  it('never throws anything but SpiffeError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          SpiffeId.parse(`spiffe://${text}`);
        } catch (error) {
          expect(SpiffeError.isSpiffeError(error)).toBe(true);
        }
      }),
    );
  });
});
