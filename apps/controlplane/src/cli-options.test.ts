import { describe, expect, it } from 'vitest';
import { parseTranslateArgs } from './cli-options.ts';
import { ControlPlaneError } from './errors.ts';
import { translate } from './translate/translate.ts';

describe('translation flags and options', () => {
  it('reads --flag=value and --flag value forms; everything else is a file', () => {
    expect(
      parseTranslateArgs([
        '--trust-domain=example.org',
        'a.yaml',
        '--waypoint-node',
        'node-b',
        '--waypoint-vip-range=127.10.255.0/24',
        'b.yaml',
      ]),
    ).toEqual({
      options: { trustDomain: 'example.org', waypoints: { node: 'node-b', vipRange: '127.10.255.0/24' } },
      files: ['a.yaml', 'b.yaml'],
    });
  });

  it('refuses unknown flags and missing values with USAGE', () => {
    for (const args of [['--bogus=1'], ['--network']]) {
      expect(() => parseTranslateArgs(args)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });

  it('refuses an allocation range that is not a CIDR with INVALID_OPTIONS', () => {
    let caught: unknown;
    try {
      translate([], { waypoints: { vipRange: '127.10.255.0/99' } });
    } catch (error) {
      caught = error;
    }
    expect(ControlPlaneError.isControlPlaneError(caught) && caught.code).toBe('INVALID_OPTIONS');
  });
});
