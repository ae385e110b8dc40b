import { describe, expect, it } from 'vitest';
import { parseAuthority } from './authority.ts';
import { HboneError } from './errors.ts';

describe('parseAuthority (HBONE)', () => {
  it('reads the forms @ambient-ts/addresses reads', () => {
    expect(parseAuthority('[FD00::A]:1')).toEqual({ kind: 'ip', address: 'fd00::a', port: 1, family: 6 });
    expect(parseAuthority('Echo:0')).toEqual({ kind: 'host', host: 'echo', port: 0 });
  });

  it('throws INVALID_AUTHORITY with the reason', () => {
    const error = (() => {
      try {
        parseAuthority('::1:80');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(HboneError.isHboneError(error)).toBe(true);
    expect((error as HboneError).code).toBe('INVALID_AUTHORITY');
    expect((error as Error).message).toBe(
      'invalid CONNECT authority "::1:80": IPv6 addresses must be in brackets; expected ip:port, [ipv6]:port or host:port',
    );
  });
});
