// X.509-SVID chain verification against generated fixtures (@ambient-ts/pki/testing).
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCa, createChain, createLeaf, type Fixture } from '@ambient-ts/pki/testing';
import { SpiffeError, TrustBundle, TrustBundleSet, verifyX509Svid, type VerifySvidOptions } from '../src/index.ts';

const id = 'spiffe://cluster.local/ns/default/sa/web';
const root = createCa({ commonName: 'test root' });
const intermediate = createCa({ commonName: 'test intermediate', issuer: root });
const bundles = new TrustBundleSet([TrustBundle.fromPem('cluster.local', root.certPem)]);
const day = 86_400_000;

function leaf(options: Parameters<typeof createLeaf>[0] extends infer O ? Partial<O> : never = {}): Fixture {
  return createLeaf({ issuer: intermediate, uris: [id], ...options });
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(SpiffeError.isSpiffeError(error)).toBe(true);
    return (error as SpiffeError).code;
  }
  return undefined;
}

describe('verifyX509Svid', () => {
  it('accepts a good chain (PEM text, leaf first) and returns the SPIFFE ID and path', () => {
    const good = leaf();
    const result = verifyX509Svid(good.certPem + intermediate.certPem, bundles);
    expect(result.spiffeId.toString()).toBe(id);
    expect(result.trustDomain).toBe('cluster.local');
    expect(result.path.map((cert) => cert.fingerprint256)).toEqual(
      [good, intermediate, root].map((fixture) => fixture.cert.fingerprint256),
    );
  });

  it('accepts DER buffers, X509Certificate objects and tls peer-certificate shapes', () => {
    const good = leaf();
    expect(verifyX509Svid([good.certDer, intermediate.certDer], bundles).spiffeId.toString()).toBe(id);
    expect(verifyX509Svid([good.cert, intermediate.cert], bundles).spiffeId.toString()).toBe(id);
    // node:tls getPeerCertificate(true) links each certificate to its issuer.
    const rootPeer: Record<string, unknown> = { raw: root.certDer, fingerprint256: root.cert.fingerprint256 };
    rootPeer['issuerCertificate'] = rootPeer;
    const peer = {
      raw: good.certDer,
      fingerprint256: good.cert.fingerprint256,
      issuerCertificate: {
        raw: intermediate.certDer,
        fingerprint256: intermediate.cert.fingerprint256,
        issuerCertificate: rootPeer,
      },
    };
    expect(verifyX509Svid(peer as never, bundles).path).toHaveLength(3);
  });

  it('accepts a leaf issued directly by a bundle root, and a chain that includes the root', () => {
    const direct = createLeaf({ issuer: root, uris: [id] });
    expect(verifyX509Svid(direct.certPem, bundles).path).toHaveLength(2);
    expect(verifyX509Svid(direct.certPem + root.certPem, bundles).path).toHaveLength(2);
  });

  it('uses a bundle with several roots (one PEM holding several certificates)', () => {
    const otherRoot = createCa({ commonName: 'other root' });
    const multi = new TrustBundleSet([TrustBundle.fromPem('cluster.local', otherRoot.certPem + root.certPem)]);
    expect(multi.get('cluster.local')?.roots).toHaveLength(2);
    expect(verifyX509Svid([leaf().cert, intermediate.cert], multi).spiffeId.toString()).toBe(id);
  });

  const cases: [string, () => string | Fixture[], VerifySvidOptions | undefined, string][] = [
    ['wrong root', () => createChain(id).chainPem, undefined, 'SVID_UNTRUSTED'],
    ['missing intermediate', () => leaf().certPem, undefined, 'SVID_UNTRUSTED'],
    [
      'expired leaf',
      () => [leaf({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) }), intermediate],
      undefined,
      'SVID_EXPIRED',
    ],
    [
      'not-yet-valid leaf',
      () => [leaf({ notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 2 * day) }), intermediate],
      undefined,
      'SVID_NOT_YET_VALID',
    ],
    ['checked at a later time', () => [leaf(), intermediate], { now: Date.now() + 3 * day }, 'SVID_EXPIRED'],
    [
      'leaf is a CA (basicConstraints)',
      () => [leaf({ isCa: true, keyUsage: ['digitalSignature'] }), intermediate],
      undefined,
      'SVID_LEAF_IS_CA',
    ],
    [
      'leaf may sign certificates (keyCertSign)',
      () => [leaf({ keyUsage: ['digitalSignature', 'keyCertSign'] }), intermediate],
      undefined,
      'SVID_LEAF_IS_CA',
    ],
    [
      'no URI SAN',
      () => [leaf({ uris: [], dnsNames: ['web.default.svc'] }), intermediate],
      undefined,
      'SVID_NO_URI_SAN',
    ],
    [
      'two URI SANs in strict mode',
      () => [leaf({ uris: [id, 'spiffe://cluster.local/ns/x/sa/y'] }), intermediate],
      { mode: 'strict' },
      'SVID_MULTIPLE_URI_SANS',
    ],
    [
      'a URI SAN that is not a SPIFFE ID',
      () => [leaf({ uris: ['https://example.com/x'] }), intermediate],
      undefined,
      'SVID_BAD_SPIFFE_ID',
    ],
    [
      'a trust-domain-only SPIFFE ID',
      () => [leaf({ uris: ['spiffe://cluster.local'] }), intermediate],
      undefined,
      'SVID_ROOT_PATH',
    ],
    [
      'foreign trust domain',
      () => [leaf({ uris: ['spiffe://clusterset.local/ns/a/sa/b'] }), intermediate],
      undefined,
      'SVID_NO_BUNDLE',
    ],
    [
      'expected trust domain differs',
      () => [leaf(), intermediate],
      { expectedTrustDomain: 'other.local' },
      'SVID_TRUST_DOMAIN_MISMATCH',
    ],
    [
      'strict: key usage missing',
      () => [leaf({ keyUsage: null }), intermediate],
      { mode: 'strict' },
      'SVID_LEAF_KEY_USAGE',
    ],
    [
      'strict: key usage not critical',
      () => [leaf({ keyUsageCritical: false }), intermediate],
      { mode: 'strict' },
      'SVID_LEAF_KEY_USAGE',
    ],
    [
      'strict: EKU lacks clientAuth',
      () => [leaf({ extKeyUsage: ['serverAuth'] }), intermediate],
      { mode: 'strict' },
      'SVID_LEAF_EXT_KEY_USAGE',
    ],
    [
      'istio: EKU lacks the purpose',
      () => [leaf({ extKeyUsage: ['serverAuth'] }), intermediate],
      { mode: 'istio', purpose: 'client' },
      'SVID_LEAF_EXT_KEY_USAGE',
    ],
    [
      'intermediate is not a CA',
      () => {
        const notCa = createCertificateSigner();
        return [createLeaf({ issuer: notCa, uris: [id] }), notCa, intermediate];
      },
      undefined,
      'SVID_SIGNER_NOT_CA',
    ],
    [
      'expired intermediate',
      () => {
        const old = createCa({
          commonName: 'old intermediate',
          issuer: root,
          notBefore: new Date(Date.now() - 3 * day),
          notAfter: new Date(Date.now() - day),
        });
        return [createLeaf({ issuer: old, uris: [id] }), old];
      },
      undefined,
      'SVID_EXPIRED',
    ],
    [
      'path length exceeded',
      () => {
        const limited = createCa({ commonName: 'limited', issuer: root, pathLen: 0 });
        const below = createCa({ commonName: 'below', issuer: limited });
        return [createLeaf({ issuer: below, uris: [id] }), below, limited];
      },
      undefined,
      'SVID_PATH_LENGTH',
    ],
    ['empty chain', () => [], undefined, 'SVID_NO_CERTIFICATES'],
  ];

  it.each(cases)('rejects: %s', (_name, build, options, code) => {
    const input = build();
    const chain = typeof input === 'string' ? input : input.map((fixture) => fixture.cert);
    expect(codeOf(() => verifyX509Svid(chain, bundles, options))).toBe(code);
  });

  it('istio mode takes the first parseable SPIFFE URI SAN and ignores the rest', () => {
    const two = leaf({ uris: ['https://not-spiffe.example/x', id, 'spiffe://cluster.local/ns/x/sa/y'] });
    expect(verifyX509Svid([two.cert, intermediate.cert], bundles, { mode: 'istio' }).spiffeId.toString()).toBe(id);
    // The same certificate is not an X.509-SVID by the spec.
    expect(codeOf(() => verifyX509Svid([two.cert, intermediate.cert], bundles))).toBe('SVID_MULTIPLE_URI_SANS');
  });

  it('istio mode tolerates a leaf without key usage (as Istio does), strict does not', () => {
    const bare = leaf({ keyUsage: null, extKeyUsage: null });
    expect(verifyX509Svid([bare.cert, intermediate.cert], bundles, { mode: 'istio' }).spiffeId.toString()).toBe(id);
    expect(codeOf(() => verifyX509Svid([bare.cert, intermediate.cert], bundles))).toBe('SVID_LEAF_KEY_USAGE');
  });

  it('follows bundle replacement at run time', () => {
    const set = new TrustBundleSet([TrustBundle.fromPem('cluster.local', root.certPem)]);
    const changes: string[] = [];
    set.on('change', (trustDomain) => changes.push(trustDomain));
    const chain = [leaf().cert, intermediate.cert];
    expect(verifyX509Svid(chain, set).spiffeId.toString()).toBe(id);
    set.set(TrustBundle.fromPem('cluster.local', createCa({ commonName: 'rotated root' }).certPem));
    expect(codeOf(() => verifyX509Svid(chain, set))).toBe('SVID_UNTRUSTED');
    set.delete('cluster.local');
    expect(codeOf(() => verifyX509Svid(chain, set))).toBe('SVID_NO_BUNDLE');
    expect(changes).toEqual(['cluster.local', 'cluster.local']);
  });

  it('reports unparseable input as SVID_BAD_CERTIFICATE', () => {
    expect(codeOf(() => verifyX509Svid('not pem at all', bundles))).toBe('SVID_BAD_CERTIFICATE');
    expect(codeOf(() => verifyX509Svid(Buffer.from([0x30, 0x03, 0x02, 0x01]), bundles))).toBe('SVID_BAD_CERTIFICATE');
  });
});

describe('TrustBundle', () => {
  it('refuses empty PEM, garbage and non-CA certificates', () => {
    expect(codeOf(() => TrustBundle.fromPem('cluster.local', ''))).toBe('BUNDLE_BAD_PEM');
    expect(codeOf(() => TrustBundle.fromPem('cluster.local', leaf().certPem))).toBe('BUNDLE_NOT_CA');
    expect(codeOf(() => new TrustBundle('cluster.local', []))).toBe('BUNDLE_NO_CERTIFICATES');
    expect(codeOf(() => TrustBundle.fromPem('Bad.Domain', root.certPem))).toBe('SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
  });

  it('round-trips PEM and recognises its roots', () => {
    const bundle = TrustBundle.fromPem('cluster.local', root.certPem);
    expect(bundle.toPem()).toBe(root.certPem);
    expect(bundle.has(new X509Certificate(root.certPem))).toBe(true);
    expect(bundle.has(intermediate.cert)).toBe(false);
    expect(bundles.allRoots()).toHaveLength(1);
    expect(bundles.trustDomains()).toEqual(['cluster.local']);
  });
});

/** A certificate with cA=false that nevertheless signs a leaf. */
function createCertificateSigner(): Fixture {
  return createLeaf({ issuer: intermediate, commonName: 'not a ca', uris: ['spiffe://cluster.local/ns/x/sa/signer'] });
}
