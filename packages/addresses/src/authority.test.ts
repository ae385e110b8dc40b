import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatAuthority,
  formatHostPort,
  formatSocketAddress,
  InvalidAuthorityError,
  parseAuthority,
} from './index.ts';

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
    '[10.0.0.1]:80',
    '10.0.0.1:99999',
    '[::1:80',
    '[zz::1]:80',
    '[fe80::1%eth0]:80',
    'a b:80',
    'host_!:80',
    '-host:80',
    'x'.repeat(300) + ':80',
  ])('rejects %j with InvalidAuthorityError', (text) => {
    const error = (() => {
      try {
        parseAuthority(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidAuthorityError);
    expect(InvalidAuthorityError.isInvalidAuthorityError(error)).toBe(true);
    expect((error as InvalidAuthorityError).code).toBe('INVALID_AUTHORITY');
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

  it('names what is wrong', () => {
    expect(() => parseAuthority('::1:80')).toThrow(
      'invalid CONNECT authority "::1:80": IPv6 addresses must be in brackets; expected ip:port, [ipv6]:port or host:port',
    );
    expect(() => parseAuthority('host:65536')).toThrow('port 65536 is out of range');
  });

  it('never throws anything but InvalidAuthorityError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseAuthority(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidAuthorityError);
        }
      }),
    );
  });
});

describe('formatting', () => {
  it('brackets IPv6 and nothing else', () => {
    expect(formatSocketAddress({ address: '::1', port: 80 })).toBe('[::1]:80');
    expect(formatSocketAddress({ address: '10.0.0.1', port: 80 })).toBe('10.0.0.1:80');
    expect(formatHostPort('::ffff:10.0.0.1', 8080)).toBe('[::ffff:10.0.0.1]:8080');
    expect(formatHostPort('echo.default', 80)).toBe('echo.default:80');
    expect(formatAuthority({ kind: 'ip', address: 'fd00::1', port: 15008, family: 6 })).toBe('[fd00::1]:15008');
  });
});
