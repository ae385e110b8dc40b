// The fixtures of @ambient-ts/pki/testing: chains whose signatures, names and extensions check out in
// node:crypto and openssl, the options tests rely on, and the digest that follows the signer's key.
import { describe, expect, it } from 'vitest';
import { createCa, createCertificate, createChain, createLeaf, hasOpenssl, opensslText } from './testing.ts';

describe('@ambient-ts/pki/testing', () => {
  it('builds a chain whose signatures, names and extensions check out', () => {
    const chain = createChain('spiffe://cluster.local/ns/a/sa/b');
    expect(chain.leaf.cert.verify(chain.intermediate.cert.publicKey)).toBe(true);
    expect(chain.intermediate.cert.verify(chain.root.cert.publicKey)).toBe(true);
    expect(chain.leaf.cert.checkIssued(chain.intermediate.cert)).toBe(true);
    expect(chain.root.cert.ca).toBe(true);
    expect(chain.leaf.cert.ca).toBe(false);
    expect(chain.leaf.cert.subject).toBeUndefined(); // empty subject, as Istio's CA issues leaves
    expect(chain.leaf.cert.subjectAltName).toBe('URI:spiffe://cluster.local/ns/a/sa/b');
    expect(chain.leaf.cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(chain.chainPem).toBe(chain.leaf.certPem + chain.intermediate.certPem);
  });

  it('honours validity, key algorithm and CA options', () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-01-02T00:00:00Z');
    const root = createCa({ commonName: 'rsa root', keyAlgorithm: 'rsa-2048' });
    const leaf = createLeaf({
      issuer: root,
      uris: ['spiffe://x/y'],
      notBefore,
      notAfter,
      isCa: true,
      keyUsage: ['keyCertSign', 'digitalSignature'],
    });
    expect(root.key.asymmetricKeyType).toBe('rsa');
    expect(leaf.cert.validFromDate.toISOString()).toBe(notBefore.toISOString());
    expect(leaf.cert.validToDate.toISOString()).toBe(notAfter.toISOString());
    expect(leaf.cert.ca).toBe(true);
    expect(leaf.cert.verify(root.cert.publicKey)).toBe(true);
  });

  it.skipIf(!hasOpenssl())('a P-384 signer signs with ecdsa-with-SHA384, a P-256 one with SHA-256 (openssl)', () => {
    const root = createCa({ commonName: 'p384 root', keyAlgorithm: 'ec-p384' });
    const leaf = createLeaf({ issuer: root, uris: ['spiffe://cluster.local/ns/a/sa/b'] });
    const text = opensslText('x509', leaf.certPem);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA384/);
    expect(text).not.toMatch(/ecdsa-with-SHA256/);
    expect(leaf.cert.verify(root.cert.publicKey)).toBe(true);
    expect(opensslText('x509', root.certPem)).toMatch(/NIST CURVE: P-384|ASN1 OID: secp384r1/);

    const p384Leaf = createLeaf({ issuer: createCa({ commonName: 'p256 root' }), keyAlgorithm: 'ec-p384' });
    const p256Signed = opensslText('x509', p384Leaf.certPem);
    expect(p256Signed).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(p256Signed).toMatch(/ASN1 OID: secp384r1/);
  });

  it.skipIf(!hasOpenssl())('openssl shows a leaf as Istio issues it and verifies the chain', () => {
    const chain = createChain('spiffe://cluster.local/ns/a/sa/b', { keyAlgorithm: 'ec-p384' });
    const text = opensslText('x509', chain.leaf.certPem);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/a\/sa\/b/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
  });

  it('can leave extensions out or mark them as a defect needs', () => {
    const bare = createCertificate({ commonName: 'bare' });
    expect(bare.cert.ca).toBe(false); // no basicConstraints at all
    expect(bare.cert.subject).toBe('O=ambient-ts fixtures\nCN=bare');
    const root = createCa({ commonName: 'root' });
    const limited = createCa({ commonName: 'limited', issuer: root, pathLen: 0 });
    expect(limited.cert.checkIssued(root.cert)).toBe(true);
    const named = createLeaf({ issuer: root, dnsNames: ['web.default.svc'], ipAddresses: ['10.0.0.1'] });
    expect(named.cert.subjectAltName).toBe('DNS:web.default.svc, IP Address:10.0.0.1');
    expect(named.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(named.certDer.equals(named.cert.raw)).toBe(true);
  });
});
