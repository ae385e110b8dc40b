// The CA's rule for workload CSRs (exactly one SAN, a workload SPIFFE URI), over CSRs built by our
// builder and by node-forge; and the client's check of the identities it asks for.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCsr, generatePrivateKey, parseCsr } from '@ambient-ts/pki';
import { forgeCsr } from '@ambient-ts/pki/testing';
import { codeOf } from '../test/fixtures.ts';
import { checkIdentity } from './csr.ts';
import { csrIdentity } from './csr-parse.ts';

const id = 'spiffe://cluster.local/ns/default/sa/web';
const ecKey = await generatePrivateKey('ec-p256');
const rsaKey = await generatePrivateKey('rsa-2048');

describe('checkIdentity', () => {
  it('refuses identities that are not workload SPIFFE IDs', () => {
    expect(checkIdentity(id)).toBe(id);
    expect(codeOf(() => checkIdentity('spiffe://cluster.local'))).toBe('IDENTITY_INVALID');
    expect(codeOf(() => checkIdentity('https://cluster.local/ns/a/sa/b'))).toBe('IDENTITY_INVALID');
    expect(codeOf(() => checkIdentity('spiffe://Cluster.local/ns/a/sa/b'))).toBe('IDENTITY_INVALID');
  });
});

describe('csrIdentity', () => {
  it.each([
    ['ec-p256', ecKey],
    ['rsa-2048', rsaKey],
  ] as const)('%s: our CSR names the identity', (_name, key) => {
    expect(csrIdentity(parseCsr(createCsr(id, key)))).toBe(id);
  });

  it('round-trips any valid Istio identity (property)', () => {
    const part = fc
      .string({ unit: fc.constantFrom(...'abcxyzABC019.-_'.split('')), minLength: 1, maxLength: 20 })
      .filter((s) => s !== '.' && s !== '..');
    const td = fc.string({ unit: fc.constantFrom(...'abcz09.-'.split('')), minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(td, part, part, (trustDomain, ns, sa) => {
        const identity = `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
        expect(csrIdentity(parseCsr(createCsr(identity, ecKey)))).toBe(identity);
      }),
      { numRuns: 60 },
    );
  });

  it('zero SANs, several SANs, a non-SPIFFE SAN', () => {
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr())))).toBe('CSR_NO_SAN');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ commonName: 'web' }))))).toBe('CSR_NO_SAN');
    const two = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 6, value: 'spiffe://cluster.local/ns/x/sa/y' },
      ],
    });
    expect(codeOf(() => csrIdentity(parseCsr(two)))).toBe('CSR_MULTIPLE_SANS');
    const withDns = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 2, value: 'web.default.svc' },
      ],
    });
    expect(codeOf(() => csrIdentity(parseCsr(withDns)))).toBe('CSR_MULTIPLE_SANS');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 2, value: 'web' }] }))))).toBe('CSR_NOT_SPIFFE');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'https://web' }] }))))).toBe(
      'CSR_NOT_SPIFFE',
    );
    expect(
      codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local' }] })))),
    ).toBe('CSR_NOT_SPIFFE');
    const notIstio = forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local/workload/web' }] });
    expect(codeOf(() => csrIdentity(parseCsr(notIstio)))).toBe('CSR_NOT_SPIFFE');
    // A forge-made single-SAN CSR is fine: the CA does not depend on our own CSR builder.
    expect(csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: id }] })))).toBe(id);
  });
});
