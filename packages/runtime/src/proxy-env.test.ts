import { describe, expect, it } from 'vitest';
import { controlPlaneAddress, formatHelp, redactConfig, terminationDeadline } from './proxy-env.ts';

describe('shared proxy environment', () => {
  it('reads control-plane addresses as Istio does', () => {
    expect(controlPlaneAddress({}, 'XDS_ADDRESS')).toBeUndefined();
    expect(controlPlaneAddress({ XDS_ADDRESS: '' }, 'XDS_ADDRESS')).toBe('');
    expect(controlPlaneAddress({ XDS_ADDRESS: 'istiod:15012' }, 'XDS_ADDRESS')).toBe('https://istiod:15012');
    expect(controlPlaneAddress({ XDS_ADDRESS: 'http://127.0.0.1:15010' }, 'XDS_ADDRESS')).toBe(
      'http://127.0.0.1:15010',
    );
  });

  it.each([
    [{}, 5000],
    [{ CONNECTION_TERMINATION_DEADLINE: '7s' }, 7000],
    [{ TERMINATION_GRACE_PERIOD_SECONDS: '30' }, 25_000],
    [{ TERMINATION_GRACE_PERIOD_SECONDS: '8' }, 7000],
    [{ TERMINATION_GRACE_PERIOD_SECONDS: '1' }, 1000],
  ])('drain deadline for %o is %d ms', (env, expected) => {
    expect(terminationDeadline(env)).toBe(expected);
  });

  it('redacts literal tokens, header values and inline YAML, keeps token file paths', () => {
    const base = { xdsHeaders: { X: 'secret' }, caHeaders: {}, other: 1 };
    expect(redactConfig({ ...base, authToken: 'eyJ.token', localXds: 'workloads: []' })).toEqual({
      authToken: '<redacted>',
      xdsHeaders: { X: '<redacted>' },
      caHeaders: {},
      other: 1,
      localXds: '<13 bytes of inline YAML>',
    });
    expect(redactConfig({ ...base, authToken: './var/run/secrets/tokens/istio-token' })['authToken']).toBe(
      './var/run/secrets/tokens/istio-token',
    );
  });

  it('formats --help with aligned variables', () => {
    expect(
      formatHelp(['title'], 'tool', [
        ['A', '1', 'first'],
        ['LONGER', '', 'second'],
      ]),
    ).toBe(
      'title\n\nusage: tool [--help] [--version] [--print-config]\n\nenvironment:\n  A       first [default: 1]\n  LONGER  second',
    );
  });
});
