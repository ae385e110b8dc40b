// X.509-SVID verification: the chain leads to a root of the peer's trust-domain bundle, every
// certificate is in its validity window, the leaf is an end-entity certificate fit for TLS, and the
// SPIFFE ID comes from its URI SAN.
import type { X509Certificate } from 'node:crypto';
import { toCertificates, type CertificateInput } from './certificates.ts';
import { SpiffeError } from './errors.ts';
import { SpiffeId } from './spiffe-id.ts';
import type { TrustBundleSet } from './trust-bundle.ts';
import { TrustBundle } from './trust-bundle.ts';
import { extKeyUsageOids, readFields } from './x509-fields.ts';

/**
 * `strict`: the X.509-SVID spec — exactly one URI SAN, a non-root path, critical key usage with
 * digitalSignature, EKU (when present) with both serverAuth and clientAuth.
 * `istio`: what Istio's ztunnel accepts — the first URI SAN that parses as a SPIFFE ID wins, others are
 * ignored; EKU (when present) must allow the purpose; key usage must not make the leaf a signer.
 */
export type SvidMode = 'strict' | 'istio';

export interface VerifySvidOptions {
  mode?: SvidMode;
  /** Verification time; defaults to now. */
  now?: Date | number;
  /** The role the peer plays: its EKU must allow it in `istio` mode. Default `any`. */
  purpose?: 'client' | 'server' | 'any';
  /** Refuse peers from any other trust domain (ztunnel's inbound rule: same trust domain as mine). */
  expectedTrustDomain?: string;
  /** Longest chain accepted, leaf and root included. Default 10. */
  maxChainLength?: number;
}

export interface VerifiedSvid {
  spiffeId: SpiffeId;
  leaf: X509Certificate;
  /** Leaf first, ending with the bundle root that anchors it. */
  path: X509Certificate[];
  trustDomain: string;
}

function describe(cert: X509Certificate): string {
  return cert.subject ? `"${cert.subject.replace(/\n/g, ', ')}"` : `serial ${cert.serialNumber}`;
}

function extractSpiffeId(leaf: X509Certificate, mode: SvidMode): SpiffeId {
  const { uriSans } = readFields(leaf);
  if (uriSans.length === 0)
    throw new SpiffeError('SVID_NO_URI_SAN', 'the leaf certificate has no URI SAN, so it carries no SPIFFE ID');
  if (mode === 'strict') {
    if (uriSans.length > 1) {
      throw new SpiffeError(
        'SVID_MULTIPLE_URI_SANS',
        `the leaf certificate has ${uriSans.length} URI SANs; an X.509-SVID has exactly one`,
      );
    }
    let id: SpiffeId;
    try {
      id = SpiffeId.parse(uriSans[0]!);
    } catch (error) {
      throw new SpiffeError(
        'SVID_BAD_SPIFFE_ID',
        `the leaf's URI SAN is not a valid SPIFFE ID: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (id.isTrustDomainId)
      throw new SpiffeError(
        'SVID_ROOT_PATH',
        `the leaf's SPIFFE ID ${id} has no path; leaf SVIDs must name a workload`,
      );
    return id;
  }
  for (const uri of uriSans) {
    const id = SpiffeId.tryParse(uri);
    if (id) return id;
  }
  throw new SpiffeError(
    'SVID_BAD_SPIFFE_ID',
    `none of the leaf's URI SANs is a valid SPIFFE ID: ${uriSans.join(', ')}`,
  );
}

function checkLeaf(leaf: X509Certificate, mode: SvidMode, purpose: 'client' | 'server' | 'any'): void {
  const fields = readFields(leaf);
  if (fields.basicConstraints?.ca)
    throw new SpiffeError('SVID_LEAF_IS_CA', 'the leaf certificate is a CA (basicConstraints cA=true)');
  const usages = fields.keyUsage?.usages;
  if (usages?.has('keyCertSign') || usages?.has('cRLSign')) {
    throw new SpiffeError(
      'SVID_LEAF_IS_CA',
      'the leaf certificate may sign certificates (key usage keyCertSign/cRLSign)',
    );
  }
  if (mode === 'strict') {
    if (!fields.keyUsage || !fields.keyUsage.critical || !usages?.has('digitalSignature')) {
      throw new SpiffeError(
        'SVID_LEAF_KEY_USAGE',
        'the leaf certificate needs a critical key usage extension with digitalSignature',
      );
    }
  }
  const eku = fields.extKeyUsage;
  if (eku === undefined || eku.includes(extKeyUsageOids.anyExtendedKeyUsage)) return;
  const hasServer = eku.includes(extKeyUsageOids.serverAuth);
  const hasClient = eku.includes(extKeyUsageOids.clientAuth);
  if (mode === 'strict' && !(hasServer && hasClient)) {
    throw new SpiffeError(
      'SVID_LEAF_EXT_KEY_USAGE',
      'the leaf certificate has an extended key usage without both serverAuth and clientAuth',
    );
  }
  if ((purpose === 'server' && !hasServer) || (purpose === 'client' && !hasClient)) {
    throw new SpiffeError(
      'SVID_LEAF_EXT_KEY_USAGE',
      `the leaf certificate's extended key usage does not allow ${purpose}Auth`,
    );
  }
}

function checkValidity(cert: X509Certificate, now: number, role: string): void {
  if (now < cert.validFromDate.getTime()) {
    throw new SpiffeError(
      'SVID_NOT_YET_VALID',
      `the ${role} certificate ${describe(cert)} is not valid before ${cert.validFromDate.toISOString()}`,
    );
  }
  if (now > cert.validToDate.getTime()) {
    throw new SpiffeError(
      'SVID_EXPIRED',
      `the ${role} certificate ${describe(cert)} expired at ${cert.validToDate.toISOString()}`,
    );
  }
}

// Name and signature only: OpenSSL's checkIssued also rejects issuers without keyCertSign, which
// would hide the more useful "signed by a non-CA" error behind "untrusted".
function issues(issuer: X509Certificate, subject: X509Certificate): boolean {
  return subject.issuer === issuer.subject && subject.verify(issuer.publicKey);
}

function checkSigner(signer: X509Certificate, depth: number): void {
  const fields = readFields(signer);
  if (!fields.basicConstraints?.ca || (fields.keyUsage && !fields.keyUsage.usages.has('keyCertSign'))) {
    throw new SpiffeError('SVID_SIGNER_NOT_CA', `certificate ${describe(signer)} signed the chain but is not a CA`);
  }
  // Intermediates between this signer and the leaf must not exceed its pathLenConstraint.
  const below = depth - 1;
  const limit = fields.basicConstraints.pathLength;
  if (limit !== undefined && below > limit) {
    throw new SpiffeError(
      'SVID_PATH_LENGTH',
      `certificate ${describe(signer)} allows ${limit} intermediates below it, the chain has ${below}`,
    );
  }
}

/** Build the path from the leaf to a bundle root; throws SVID_UNTRUSTED when there is none. */
function buildPath(certs: X509Certificate[], bundle: TrustBundle, now: number, maxLength: number): X509Certificate[] {
  const path = [certs[0]!];
  const unused = certs.slice(1);
  while (path.length < maxLength) {
    const current = path[path.length - 1]!;
    const anchor = bundle.roots.find((root) => issues(root, current));
    if (anchor) {
      checkSigner(anchor, path.length);
      checkValidity(anchor, now, 'root');
      return [...path, anchor];
    }
    const index = unused.findIndex((candidate) => issues(candidate, current));
    if (index === -1) break;
    const next = unused.splice(index, 1)[0]!;
    checkSigner(next, path.length);
    checkValidity(next, now, 'intermediate');
    path.push(next);
  }
  throw new SpiffeError(
    'SVID_UNTRUSTED',
    `the certificate chain does not lead to a root in the trust bundle of "${bundle.trustDomain}" (within ${maxLength} certificates)`,
  );
}

/**
 * Verify a peer's X.509-SVID chain (leaf first, intermediates after; roots optional) against the
 * bundle of the trust domain named in the leaf's SPIFFE ID. Throws `SpiffeError` with a specific code.
 */
export function verifyX509Svid(
  chain: CertificateInput,
  bundles: TrustBundleSet | TrustBundle,
  options: VerifySvidOptions = {},
): VerifiedSvid {
  const mode = options.mode ?? 'strict';
  const now = options.now === undefined ? Date.now() : new Date(options.now).getTime();
  const certs = toCertificates(chain);
  const leaf = certs[0];
  if (!leaf) throw new SpiffeError('SVID_NO_CERTIFICATES', 'the peer presented no certificate');
  const spiffeId = extractSpiffeId(leaf, mode);
  if (options.expectedTrustDomain !== undefined && spiffeId.trustDomain !== options.expectedTrustDomain) {
    throw new SpiffeError(
      'SVID_TRUST_DOMAIN_MISMATCH',
      `peer identity ${spiffeId} is in trust domain "${spiffeId.trustDomain}", expected "${options.expectedTrustDomain}"`,
    );
  }
  const bundle =
    bundles instanceof TrustBundle
      ? bundles.trustDomain === spiffeId.trustDomain
        ? bundles
        : undefined
      : bundles.get(spiffeId.trustDomain);
  if (!bundle) {
    throw new SpiffeError(
      'SVID_NO_BUNDLE',
      `no trust bundle for trust domain "${spiffeId.trustDomain}" (peer ${spiffeId} is from a foreign trust domain)`,
    );
  }
  checkLeaf(leaf, mode, options.purpose ?? 'any');
  checkValidity(leaf, now, 'leaf');
  const path = buildPath(certs, bundle, now, options.maxChainLength ?? 10);
  return { spiffeId, leaf, path, trustDomain: spiffeId.trustDomain };
}
