// The shared credential source: one object per identity and certificate, a new one after rotation;
// and createCaClient building the in-process or the Istio CA client from proxy settings.
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readCertificateFields } from '@ambient-ts/spiffe';
import { rejectionOf } from '../test/fixtures.ts';
import { startCa, webId as web } from '../test/harness.ts';
import type { CaClient } from './ca-client.ts';
import { ManualClock } from './clock.ts';
import { createCaClient, type CaClientSettings } from './create-ca-client.ts';
import { CredentialSource } from './credentials.ts';
import { IstioCaClient } from './istio-ca-client.ts';
import { LocalCa } from './local-ca.ts';
import { CertificateManager } from './manager.ts';

const db = 'spiffe://cluster.local/ns/data/sa/db';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('CredentialSource', () => {
  it('hands out the same object until rotation, then a new one for the new certificate', async () => {
    const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
    const manager = new CertificateManager({ caClient: await LocalCa.create({ clock, ttlSeconds: 3600 }), clock });
    closers.push(() => manager.close());
    const source = new CredentialSource(manager);

    const first = await source.credentials(web);
    expect(await source.credentials(web)).toBe(first); // no PEM comparison needed to recognise it
    expect(await source.credentials(web)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const certificate = await manager.getCertificate(web);
    expect(first).toEqual({
      certChainPem: certificate.certChainPem,
      privateKeyPem: certificate.privateKeyPem,
      rootCertsPem: certificate.rootCertsPem,
    });

    const other = await source.credentials(db);
    expect(other).not.toBe(first);
    expect(readCertificateFields(new X509Certificate(other.certChainPem)).uriSans).toEqual([db]);

    // Past half-life of the one-hour certificates: both are renewed in the background.
    const pending = new Set([web, db]);
    const renewed = new Promise<void>((resolve) =>
      manager.on('change', (id) => pending.delete(id) && pending.size === 0 && resolve()),
    );
    clock.advance(31 * 60_000);
    await renewed;
    const rotated = await source.credentials(web);
    expect(rotated).not.toBe(first);
    expect(rotated.privateKeyPem).not.toBe(first.privateKeyPem); // a fresh key per certificate
    expect(await source.credentials(web)).toBe(rotated);
    const otherRotated = await source.credentials(db);
    expect(otherRotated).not.toBe(other);
    expect(await source.credentials(db)).toBe(otherRotated);
  });

  it('passes the manager refusal through (no credentials without a certificate)', async () => {
    const failing: CaClient = { fetchCertificate: () => Promise.reject(new Error('CA down')) };
    const manager = new CertificateManager({ caClient: failing });
    closers.push(() => manager.close());
    const error = await rejectionOf(new CredentialSource(manager).credentials(web));
    expect(error.code).toBe('CERT_UNAVAILABLE');
  });
});

describe('createCaClient', () => {
  const settings: CaClientSettings = {
    fakeCa: true,
    caRootCa: 'SYSTEM',
    clusterId: 'Kubernetes',
    secretTtlMs: 2 * 3_600_000,
    caHeaders: {},
  };

  it('FAKE_CA: an in-process CA for the proxy trust domain, with SECRET_TTL lifetimes', async () => {
    const client = await createCaClient(settings, { trustDomain: 'example.org', impersonate: true, token: () => 'x' });
    expect(client).toBeInstanceOf(LocalCa);
    const issued = await client.fetchCertificate('spiffe://example.org/ns/a/sa/b');
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(2 * 3_600_000);
    const foreign = await rejectionOf(client.fetchCertificate(web));
    expect(foreign).toMatchObject({ code: 'CA_PERMISSION_DENIED', reason: 'DENIED_TRUST_DOMAIN' });
  });

  it("Istio's CA: address, root, token read per request, impersonation as the role says", async () => {
    const ca = await startCa();
    closers.push(() => ca.close());
    let token: string | undefined = await ca.token('node-a');
    const client = await createCaClient(
      { ...settings, fakeCa: false, caAddress: ca.address, caRootCa: ca.server.rootCertsPem },
      { trustDomain: 'cluster.local', impersonate: true, token: () => token },
    );
    closers.push(() => client.close?.());
    expect(client).toBeInstanceOf(IstioCaClient);
    const issued = await client.fetchCertificate(web); // another identity: only with impersonation
    expect(issued.identity).toBe(web);
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(2 * 3_600_000);
    token = undefined; // the token is read for every request: now none is sent
    expect(await rejectionOf(client.fetchCertificate(web))).toMatchObject({
      code: 'CA_UNAUTHENTICATED',
      reason: 'TOKEN_MISSING',
    });
  });

  it('refuses settings with neither FAKE_CA nor a CA address', async () => {
    const role = { trustDomain: 'cluster.local', impersonate: false, token: () => undefined };
    const error = await rejectionOf(createCaClient({ ...settings, fakeCa: false }, role));
    expect(error.code).toBe('INVALID_OPTIONS');
  });
});
