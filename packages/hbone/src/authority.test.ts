import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAuthority, normalizeAddress, parseAuthority } from './authority.ts';
import { HboneError } from './errors.ts';

describe('parseAuthority', () => {
  it.each([
    ['10.0.0.1:80', { kind: 'ip', address: '10.0.0.1', port: 80, family: 4 }],
    ['[fd00::1]:15008', { kind: 'ip', address: 'fd00::1', port: 15008, family: 6 }],
    ['[FD00::A]:1', { kind: 'ip', address: 'fd00::a', port: 1, family: 6 }],
    ['echo.default.svc.cluster.local:8080', { kind: 'host', host: 'echo.default.svc.cluster.local', port: 8080 }],
    ['Echo:0', { kind: 'host', host: 'echo', port: 0 }],
    // Not an IPv4 address, so a host name (as ztunnel's parser reads it).
    ['1.2.3:80', { kind: 'host', host: '1.2.3', port: 80 }],
  ])('%s', (text, expected) => {
    expect(parseAuthority(text)).toEqual(expected);
  });

  it.each([
    '',
    '10.0.0.1',
    '10.0.0.1:',
    ':80',
    'host:http',
    'host:65536',
    'host:-1',
    '::1:80',
    '[::1]',
    '[::1]80',
    '[::1:80',
    '[zz::1]:80',
    '[fe80::1%eth0]:80',
    'a b:80',
    'host_!:80',
    '-host:80',
    'x'.repeat(300) + ':80',
  ])('rejects %j with INVALID_AUTHORITY', (text) => {
    const error = (() => {
      try {
        parseAuthority(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(HboneError.isHboneError(error)).toBe(true);
    expect((error as HboneError).code).toBe('INVALID_AUTHORITY');
    expect((error as Error).message).toContain('expected ip:port');
  });

  it('round-trips every IP and host form', () => {
    const host = fc
      .stringMatching(/^[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?$/)
      .filter((h) => !/^\d+\.\d+\.\d+\.\d+$/.test(h));
    const authority = fc.oneof(
      fc.record({
        kind: fc.constant('ip' as const),
        address: fc.ipV4(),
        port: fc.integer({ min: 0, max: 65535 }),
        family: fc.constant(4 as const),
      }),
      fc.record({ kind: fc.constant('host' as const), host, port: fc.integer({ min: 0, max: 65535 }) }),
    );
    fc.assert(
      fc.property(authority, (value) => {
        expect(parseAuthority(formatAuthority(value))).toEqual(value);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 65535 }), (address, port) => {
        const parsed = parseAuthority(`[${address}]:${port}`);
        expect(parsed).toMatchObject({ kind: 'ip', family: 6, port });
        expect(parseAuthority(formatAuthority(parsed))).toEqual(parsed);
      }),
    );
  });

  it('never throws anything but INVALID_AUTHORITY', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseAuthority(text);
        } catch (error) {
          expect((error as HboneError).code).toBe('INVALID_AUTHORITY');
        }
      }),
    );
  });
});

describe('normalizeAddress', () => {
  it('unmaps IPv4-mapped IPv6 addresses only', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});
