// The CA's rule for workload CSRs (exactly one SAN, a workload SPIFFE URI), over CSRs built by our
// builder and by node-forge.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCsr, generatePrivateKey, parseCsr } from '@ambient-ts/pki';
import { forgeCsr } from '@ambient-ts/pki/testing';
import { csrIdentity } from './csr-parse.ts';

/** What a CaError with `code` matches. */
const failure = (code: string): unknown => expect.objectContaining({ name: 'CaError', code });

const id = 'spiffe://cluster.local/ns/default/sa/web';
const ecKey = await generatePrivateKey('ec-p256');
const rsaKey = await generatePrivateKey('rsa-2048');

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
    expect(() => csrIdentity(parseCsr(forgeCsr()))).toThrow(failure('CSR_NO_SAN'));
    expect(() => csrIdentity(parseCsr(forgeCsr({ commonName: 'web' })))).toThrow(failure('CSR_NO_SAN'));
    const two = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 6, value: 'spiffe://cluster.local/ns/x/sa/y' },
      ],
    });
    expect(() => csrIdentity(parseCsr(two))).toThrow(failure('CSR_MULTIPLE_SANS'));
    const withDns = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 2, value: 'web.default.svc' },
      ],
    });
    expect(() => csrIdentity(parseCsr(withDns))).toThrow(failure('CSR_MULTIPLE_SANS'));
    expect(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 2, value: 'web' }] })))).toThrow(
      failure('CSR_NOT_SPIFFE'),
    );
    expect(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'https://web' }] })))).toThrow(
      failure('CSR_NOT_SPIFFE'),
    );
    expect(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local' }] })))).toThrow(
      failure('CSR_NOT_SPIFFE'),
    );
    const notIstio = forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local/workload/web' }] });
    expect(() => csrIdentity(parseCsr(notIstio))).toThrow(failure('CSR_NOT_SPIFFE'));
    // A forge-made single-SAN CSR is fine: the CA does not depend on our own CSR builder.
    expect(csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: id }] })))).toBe(id);
  });
});
