// The signing core: roots it creates, material it loads (made by an independent builder), and the
// shape of what it issues, checked with the SPIFFE verifier in strict mode and with openssl.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCa, createCertificate, hasOpenssl } from '@ambient-ts/pki/testing';
import { readCertificateFields, TrustBundle, verifyX509Svid } from '@ambient-ts/spiffe';
import { CertificateAuthority } from './authority.ts';
import { generatePrivateKey, spkiDer } from '@ambient-ts/pki';

/** What a CaError with `code` matches. */
const failure = (code: string): unknown => expect.objectContaining({ name: 'CaError', code });

const id = 'spiffe://cluster.local/ns/default/sa/web';
const key = await generatePrivateKey();

describe('CertificateAuthority.create', () => {
  it('makes a self-signed CA root named after the trust domain', async () => {
    const ca = await CertificateAuthority.create({ trustDomain: 'cluster.local', commonName: 'test' });
    const root = ca.roots[0]!;
    expect(root.ca).toBe(true);
    expect(root.subject).toContain('O=cluster.local');
    expect(root.verify(root.publicKey)).toBe(true);
    expect(readCertificateFields(root).keyUsage?.usages.has('keyCertSign')).toBe(true);
    expect(ca.intermediates).toEqual([]);
  });

  it('issues workload leaves shaped like Istio CA leaves, which pass strict X.509-SVID checks', async () => {
    const ca = await CertificateAuthority.create({ trustDomain: 'cluster.local', keyAlgorithm: 'rsa-2048' });
    const chain = ca.signWorkload(id, spkiDer(key), 3600);
    expect(chain).toHaveLength(2);
    const leaf = new X509Certificate(chain[0]!);
    expect(leaf.subject ?? '').toBe(''); // node reports an empty subject as undefined
    expect(spkiDer(leaf.publicKey).equals(spkiDer(key))).toBe(true);
    const fields = readCertificateFields(leaf);
    expect(fields.uriSans).toEqual([id]);
    expect(fields.subjectAltNameCritical).toBe(true);
    expect(fields.basicConstraints).toMatchObject({ ca: false, critical: true });
    expect(fields.keyUsage?.critical).toBe(true);
    expect([...fields.keyUsage!.usages].sort()).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(leaf.validToDate.getTime() - leaf.validFromDate.getTime()).toBeGreaterThanOrEqual(3600_000);
    expect(leaf.validToDate.getTime() - leaf.validFromDate.getTime()).toBeLessThanOrEqual(3601_000);
    const verified = verifyX509Svid(chain[0]!, TrustBundle.fromPem('cluster.local', chain[1]!), { mode: 'strict' });
    expect(verified.spiffeId.toString()).toBe(id);
  });

  it('never issues past its own expiry', async () => {
    const ca = await CertificateAuthority.create({ trustDomain: 'cluster.local', ttlSeconds: 600 });
    const leaf = new X509Certificate(ca.signWorkload(id, spkiDer(key), 86_400)[0]!);
    expect(leaf.validToDate.getTime()).toBeLessThanOrEqual(ca.notAfter.getTime());
  });

  it('creates intermediates whose answers carry leaf, intermediate and root', async () => {
    const root = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const intermediate = await root.createIntermediate({ commonName: 'node CA' });
    const chain = intermediate.signWorkload(id, spkiDer(key), 3600);
    expect(chain).toHaveLength(3);
    expect(chain[2]).toBe(root.rootCertsPem);
    const verified = verifyX509Svid(chain[0]! + chain[1]!, TrustBundle.fromPem('cluster.local', chain[2]!));
    expect(verified.path).toHaveLength(3);
  });

  it.skipIf(!hasOpenssl())('openssl verifies an issued chain', async () => {
    const root = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const chain = (await root.createIntermediate()).signWorkload(id, spkiDer(key), 3600);
    const dir = mkdtempSync(join(tmpdir(), 'certs-ca-'));
    try {
      writeFileSync(join(dir, 'root.pem'), chain[2]!);
      writeFileSync(join(dir, 'int.pem'), chain[1]!);
      writeFileSync(join(dir, 'leaf.pem'), chain[0]!);
      const out = execFileSync('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'int.pem'),
        '-purpose',
        'sslclient',
        join(dir, 'leaf.pem'),
      ]).toString();
      expect(out).toContain('leaf.pem: OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad trust domains and key algorithms', async () => {
    await expect(CertificateAuthority.create({ trustDomain: 'Bad Domain' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(
      CertificateAuthority.create({ trustDomain: 'td', keyAlgorithm: 'dsa' as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});

describe('CertificateAuthority.load', () => {
  const root = createCa({ commonName: 'plugged root' });
  const intermediate = createCa({ commonName: 'plugged intermediate', issuer: root });

  it('signs with a plugged-in intermediate made by another tool and answers with its chain and root', () => {
    const ca = CertificateAuthority.load({
      trustDomain: 'cluster.local',
      certPem: intermediate.certPem,
      keyPem: intermediate.keyPem,
      chainPem: intermediate.certPem + root.certPem,
      rootCertsPem: root.certPem,
    });
    const chain = ca.signWorkload(id, spkiDer(key), 3600);
    expect(chain.slice(1)).toEqual([intermediate.certPem, root.certPem]);
    const leaf = new X509Certificate(chain[0]!);
    expect(leaf.checkIssued(intermediate.cert)).toBe(true);
    expect(verifyX509Svid(chain[0]! + chain[1]!, TrustBundle.fromPem('cluster.local', root.certPem)).path).toHaveLength(
      3,
    );
  });

  it('accepts a self-signed root alone, and several roots', () => {
    const other = createCa({ commonName: 'next root' });
    const ca = CertificateAuthority.load({
      trustDomain: 'cluster.local',
      certPem: root.certPem,
      keyPem: root.keyPem,
      rootCertsPem: root.certPem + other.certPem,
    });
    const chain = ca.signWorkload(id, spkiDer(key), 60);
    expect(chain).toHaveLength(2);
    expect(chain[1]).toBe(root.certPem + other.certPem);
    expect(
      CertificateAuthority.load({ trustDomain: 'td', certPem: root.certPem, keyPem: root.keyPem }).roots,
    ).toHaveLength(1);
  });

  it('refuses mismatched keys, non-CA certificates, expired CAs, unreadable PEM, and intermediates without roots', () => {
    const leafOnly = createCertificate({ commonName: 'not a ca', isCa: false });
    const expired = createCa({
      commonName: 'old',
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    const base = { trustDomain: 'cluster.local' };
    expect(() => CertificateAuthority.load({ ...base, certPem: root.certPem, keyPem: intermediate.keyPem })).toThrow(
      failure('CA_KEY_MISMATCH'),
    );
    expect(() => CertificateAuthority.load({ ...base, certPem: leafOnly.certPem, keyPem: leafOnly.keyPem })).toThrow(
      failure('CA_NOT_A_CA'),
    );
    expect(() => CertificateAuthority.load({ ...base, certPem: expired.certPem, keyPem: expired.keyPem })).toThrow(
      failure('CA_EXPIRED'),
    );
    expect(() => CertificateAuthority.load({ ...base, certPem: 'nope', keyPem: root.keyPem })).toThrow(
      failure('CA_BAD_PEM'),
    );
    expect(() => CertificateAuthority.load({ ...base, certPem: root.certPem, keyPem: 'nope' })).toThrow(
      failure('CA_BAD_PEM'),
    );
    expect(() =>
      CertificateAuthority.load({ ...base, certPem: intermediate.certPem, keyPem: intermediate.keyPem }),
    ).toThrow(failure('INVALID_OPTIONS'));
  });
});

describe('issueServerCertificate', () => {
  it('issues a TLS server certificate with DNS and IP SANs that node:tls accepts against the root', async () => {
    const ca = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const issued = await ca.issueServerCertificate({
      dnsNames: ['istiod.istio-system.svc'],
      ipAddresses: ['127.0.0.1'],
    });
    expect(new X509Certificate(issued.certChainPem).subjectAltName).toBe(
      'DNS:istiod.istio-system.svc, IP Address:127.0.0.1',
    );
    const server = createTlsServer({ cert: issued.certChainPem, key: issued.privateKeyPem }, (socket) =>
      socket.end('hi'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const servername of ['istiod.istio-system.svc', undefined]) {
        const text = await new Promise<string>((resolve, reject) => {
          const socket = tlsConnect({
            port,
            host: '127.0.0.1',
            ca: ca.rootCertsPem,
            ...(servername ? { servername } : {}),
          });
          let data = '';
          socket.on('data', (chunk) => (data += chunk));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        });
        expect(text).toBe('hi');
      }
    } finally {
      server.close();
    }
    await expect(ca.issueServerCertificate({})).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(ca.issueServerCertificate({ ipAddresses: ['localhost'] })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});

describe('CertificateAuthority.exportPem', () => {
  it('round-trips through load: the reloaded CA signs certificates that chain to the same root', async () => {
    const created = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const material = created.exportPem();
    expect(material.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(material.rootCertsPem).toBe(material.certPem);
    const loaded = CertificateAuthority.load({
      trustDomain: 'cluster.local',
      certPem: material.certPem,
      keyPem: material.keyPem,
    });
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const chain = loaded.signWorkload(
      'spiffe://cluster.local/ns/a/sa/b',
      publicKey.export({ type: 'spki', format: 'der' }),
      3600,
    );
    const bundle = TrustBundle.fromPem('cluster.local', created.exportPem().certPem);
    expect(verifyX509Svid(chain.join(''), bundle, { mode: 'istio' }).spiffeId.toString()).toBe(
      'spiffe://cluster.local/ns/a/sa/b',
    );
  });
});
