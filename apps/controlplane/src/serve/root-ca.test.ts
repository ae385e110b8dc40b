import { X509Certificate } from 'node:crypto';
import { CertificateAuthority } from '@ambient-ts/certs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRootMaterial } from './root-ca.ts';

describe('createRootMaterial', () => {
  it('is a self-signed CA root the certs package loads and signs with', async () => {
    const { certPem, keyPem } = await createRootMaterial({ trustDomain: 'cluster.local', now: Date.UTC(2030, 0, 1) });
    const cert = new X509Certificate(certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('O=cluster.local');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2039);
    expect(keyPem).toContain('BEGIN PRIVATE KEY');

    const authority = CertificateAuthority.load({
      trustDomain: 'cluster.local',
      certPem,
      keyPem,
      clock: { now: () => Date.UTC(2030, 0, 2) },
    });
    const server = await authority.issueServerCertificate({ dnsNames: ['localhost'] });
    expect(new X509Certificate(server.certChainPem).verify(cert.publicKey)).toBe(true);
  });

  it('encodes validity past 2049 as GeneralizedTime and any trust domain as the organization', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,150}[a-z0-9])?$/),
        fc.integer({ min: 1, max: 60 }),
        async (trustDomain, years) => {
          const now = Date.UTC(2026, 5, 1);
          const { certPem } = await createRootMaterial({ trustDomain, ttlSeconds: years * 365 * 86_400, now });
          const cert = new X509Certificate(certPem);
          expect(cert.subject).toBe(`O=${trustDomain}`);
          expect(new Date(cert.validTo).getTime()).toBe(Math.floor((now + years * 365 * 86_400_000) / 1000) * 1000);
          expect(cert.verify(cert.publicKey)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});
