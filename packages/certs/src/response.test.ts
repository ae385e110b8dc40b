// Reading CA answers: the facts' rules (roots in the last element, possibly several; leaf-only is an
// error) plus identity, key and chain checks. Bad answers are built with an independent generator.
import { describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';
import { codeOf } from '../test/fixtures.ts';
import { CertificateAuthority } from '@ambient-ts/ca';
import { generatePrivateKey, spkiDer } from '@ambient-ts/pki';
import { workloadCertificateFromChain } from './response.ts';

const identity = 'spiffe://cluster.local/ns/default/sa/web';
const privateKey = await generatePrivateKey();
const root = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
const intermediate = await root.createIntermediate();

function check(chain: string[]) {
  return workloadCertificateFromChain({ identity, chain, privateKey });
}

describe('workloadCertificateFromChain', () => {
  it('splits leaf, intermediates and roots; several roots in the last element all become anchors', () => {
    const next = createCa({ commonName: 'next root' });
    const chain = intermediate.signWorkload(identity, spkiDer(privateKey), 3600);
    const cert = check([chain[0]!, chain[1]!, chain[2]! + next.certPem]);
    expect(cert.identity).toBe(identity);
    expect(cert.certChainPem).toBe(chain[0]! + chain[1]!);
    expect(cert.rootCertsPem).toBe(root.rootCertsPem + next.certPem);
    expect(cert.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeGreaterThanOrEqual(3_600_000);
  });

  it('refuses an empty answer and a leaf-only answer', () => {
    const chain = root.signWorkload(identity, spkiDer(privateKey), 3600);
    expect(codeOf(() => check([]))).toBe('CA_RESPONSE_EMPTY');
    expect(codeOf(() => check([chain[0]!]))).toBe('CA_RESPONSE_NO_ROOT');
  });

  it('refuses a certificate for another identity, or with an extra identity', () => {
    const other = root.signWorkload('spiffe://cluster.local/ns/default/sa/other', spkiDer(privateKey), 3600);
    expect(codeOf(() => check(other))).toBe('CA_RESPONSE_WRONG_IDENTITY');
    const fakeRoot = createCa({ commonName: 'r' });
    const twoSans = createLeaf({ issuer: fakeRoot, uris: [identity, 'spiffe://cluster.local/ns/x/sa/y'] });
    expect(codeOf(() => check([twoSans.certPem, fakeRoot.certPem]))).toBe('CA_RESPONSE_WRONG_IDENTITY');
  });

  it('refuses a certificate for a key other than ours', async () => {
    const otherKey = await generatePrivateKey();
    expect(codeOf(() => check(root.signWorkload(identity, spkiDer(otherKey), 3600)))).toBe('CA_RESPONSE_KEY_MISMATCH');
  });

  it('refuses a truncated chain (intermediate missing) and a chain to foreign roots', () => {
    const chain = intermediate.signWorkload(identity, spkiDer(privateKey), 3600);
    expect(codeOf(() => check([chain[0]!, chain[2]!]))).toBe('CA_RESPONSE_UNTRUSTED');
    expect(codeOf(() => check([chain[0]!, chain[1]!, createCa({ commonName: 'stranger' }).certPem]))).toBe(
      'CA_RESPONSE_UNTRUSTED',
    );
  });

  it('refuses garbage, several leaves, non-CA roots and expired leaves', () => {
    const chain = root.signWorkload(identity, spkiDer(privateKey), 3600);
    expect(codeOf(() => check(['garbage', chain[1]!]))).toBe('CA_RESPONSE_BAD_CERTIFICATE');
    expect(codeOf(() => check([chain[0]!, 'garbage']))).toBe('CA_RESPONSE_BAD_CERTIFICATE');
    expect(codeOf(() => check([chain[0]! + chain[0]!, chain[1]!]))).toBe('CA_RESPONSE_BAD_CERTIFICATE');
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(codeOf(() => check([chain[0]!, broken]))).toBe('CA_RESPONSE_BAD_CERTIFICATE');
    expect(codeOf(() => check([chain[0]!, chain[0]!]))).toBe('CA_RESPONSE_BAD_CERTIFICATE');
    const late = (): unknown =>
      workloadCertificateFromChain({ identity, chain, privateKey, now: Date.now() + 7_200_000 });
    expect(codeOf(late)).toBe('CA_RESPONSE_BAD_CERTIFICATE');
  });
});
