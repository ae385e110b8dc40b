import { describe, expect, it } from 'vitest';
import {
  formatIstioIdentity,
  identityEquals,
  istioSpiffeId,
  parseIstioIdentity,
  tryParseIstioIdentity,
} from './istio-identity.ts';

describe('Istio identities', () => {
  it('parses spiffe://<td>/ns/<ns>/sa/<sa>', () => {
    expect(parseIstioIdentity('spiffe://cluster.local/ns/default/sa/web')).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'default',
      serviceAccount: 'web',
    });
  });

  it.each([
    ['spiffe://td/ns/a/sa/b/c', /5 segments, not 4/],
    ['spiffe://td/ns/a/sx/b', /literal segments/],
    ['spiffe://td/namespace/a/sa/b', /literal segments/],
    ['spiffe://td/ns/a', /2 segments/],
    ['spiffe://TD/ns/a/sa/b', /upper case/],
  ])('rejects %s', (text, why) => {
    expect(() => parseIstioIdentity(text)).toThrowError(why);
    expect(tryParseIstioIdentity(text)).toBeUndefined();
  });

  it('lenient mode accepts what ztunnel accepts (empty parts) and nothing more', () => {
    expect(parseIstioIdentity('spiffe:///ns/default/sa/default', { lenient: true })).toEqual({
      trustDomain: '',
      namespace: 'default',
      serviceAccount: 'default',
    });
    expect(parseIstioIdentity('spiffe://td/ns//sa/', { lenient: true })).toEqual({
      trustDomain: 'td',
      namespace: '',
      serviceAccount: '',
    });
    expect(() => parseIstioIdentity('spiffe://td/ns/a/sa/b/', { lenient: true })).toThrowError(
      /6 "\/"-separated parts/,
    );
    expect(() => parseIstioIdentity('spiffe:/td/ns/a/sa/b', { lenient: true })).toThrowError(/does not start/);
    expect(() => parseIstioIdentity('spiffe:///ns/default/sa/default')).toThrowError(/trust domain is missing/);
  });

  it('formats, builds and compares', () => {
    const identity = { trustDomain: 'cluster.local', namespace: 'ns1', serviceAccount: 'sa1' };
    expect(formatIstioIdentity(identity)).toBe('spiffe://cluster.local/ns/ns1/sa/sa1');
    expect(istioSpiffeId(identity).toString()).toBe('spiffe://cluster.local/ns/ns1/sa/sa1');
    expect(identityEquals(identity, { ...identity })).toBe(true);
    expect(identityEquals(identity, { ...identity, trustDomain: 'other.local' })).toBe(false);
    expect(identityEquals(identity, { ...identity, serviceAccount: 'sa2' })).toBe(false);
    expect(() => istioSpiffeId({ ...identity, namespace: '' })).toThrowError(/empty segments/);
  });
});
