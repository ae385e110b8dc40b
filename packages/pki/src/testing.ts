// @ambient-ts/pki/testing — X.509 fixtures for tests: roots, intermediates and leaf SVIDs with chosen
// SANs, validity, usages and key types, built at test time by the same builder the CA signs with
// (x509-build.ts), so a fixture is exactly what production would issue unless a test asks for a defect
// (expired, a CA leaf, two URI SANs, no key usage, ...). Nothing here is hand-edited PEM.
import { execFileSync } from 'node:child_process';
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { generatePrivateKeySync, privateKeyToPem, spkiDer, type KeyAlgorithm } from './keys.ts';
import {
  buildCertificate,
  distinguishedName,
  signerFor,
  type ExtKeyUsageName,
  type KeyUsageName,
} from './x509-build.ts';

export type { KeyAlgorithm, KeyUsageName, ExtKeyUsageName };

/** A generated certificate with its key, in every form a test may want. */
export interface Fixture {
  readonly cert: X509Certificate;
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly key: KeyObject;
  readonly keyPem: string;
}

export interface CertOptions {
  /** Common name for the subject (with O=ambient-ts fixtures); leaves default to an empty subject, as
   * Istio's CA issues them. */
  commonName?: string;
  /** Issuing fixture; omitted means self-signed. */
  issuer?: Fixture;
  /** Key of this certificate: `ec-p256` (default), `ec-p384` (signs what it issues with SHA-384), `rsa-2048`. */
  keyAlgorithm?: KeyAlgorithm;
  /** Defaults: one hour ago until one day from now. */
  notBefore?: Date;
  notAfter?: Date;
  /** URI SANs, e.g. SPIFFE IDs (plain strings: this package does not judge them). */
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Basic constraints cA flag; omitted means no basicConstraints extension. */
  isCa?: boolean;
  pathLen?: number;
  /** Key usage bits; null or omitted leaves the extension out. */
  keyUsage?: KeyUsageName[] | null;
  keyUsageCritical?: boolean;
  extKeyUsage?: ExtKeyUsageName[] | null;
  /** Mark the SAN extension critical; default: when the subject is empty (RFC 5280). */
  sanCritical?: boolean;
}

const hour = 3_600_000;

/** A fresh private key, generated synchronously (fixtures only). */
export function generateKey(algorithm: KeyAlgorithm = 'ec-p256'): KeyObject {
  return generatePrivateKeySync(algorithm);
}

/** Build and sign one certificate with a fresh key. */
export function createCertificate(options: CertOptions = {}): Fixture {
  const key = generateKey(options.keyAlgorithm);
  const now = Date.now();
  const subject =
    options.commonName === undefined
      ? distinguishedName({})
      : distinguishedName({ organization: 'ambient-ts fixtures', commonName: options.commonName });
  const cert = buildCertificate({
    subject,
    subjectPublicKey: spkiDer(key),
    ...(options.issuer ? { signer: signerFor(options.issuer.cert, options.issuer.key) } : { selfKey: key }),
    notBefore: options.notBefore ?? new Date(now - hour),
    notAfter: options.notAfter ?? new Date(now + 24 * hour),
    ...(options.isCa !== undefined ? { isCa: options.isCa } : {}),
    ...(options.pathLen !== undefined ? { pathLength: options.pathLen } : {}),
    ...(options.keyUsage ? { keyUsage: options.keyUsage } : {}),
    ...(options.keyUsageCritical !== undefined ? { keyUsageCritical: options.keyUsageCritical } : {}),
    ...(options.extKeyUsage ? { extKeyUsage: options.extKeyUsage } : {}),
    sans: { uris: options.uris ?? [], dnsNames: options.dnsNames ?? [], ipAddresses: options.ipAddresses ?? [] },
    ...(options.sanCritical !== undefined ? { sanCritical: options.sanCritical } : {}),
  });
  return { cert, certDer: Buffer.from(cert.raw), certPem: cert.toString(), key, keyPem: privateKeyToPem(key) };
}

/** A CA certificate (a root when no issuer is given). */
export function createCa(options: Omit<CertOptions, 'isCa'> & { commonName: string }): Fixture {
  return createCertificate({ keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'], ...options, isCa: true });
}

/** A workload leaf shaped like the ones Istio's CA issues (empty subject, one SPIFFE URI SAN). */
export function createLeaf(options: CertOptions & { issuer: Fixture }): Fixture {
  return createCertificate({
    isCa: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    ...options,
  });
}

/** Root → intermediate → leaf for one SPIFFE ID, the common case in tests. */
export interface Chain {
  root: Fixture;
  intermediate: Fixture;
  leaf: Fixture;
  /** Leaf then intermediate, PEM, as a TLS peer would present them. */
  chainPem: string;
}

export function createChain(
  spiffeId: string,
  options: { rootName?: string; root?: Fixture; keyAlgorithm?: KeyAlgorithm } = {},
): Chain {
  const keyAlgorithm = options.keyAlgorithm ? { keyAlgorithm: options.keyAlgorithm } : {};
  const root = options.root ?? createCa({ commonName: options.rootName ?? 'ambient-ts test root', ...keyAlgorithm });
  const intermediate = createCa({ commonName: 'ambient-ts test intermediate', issuer: root, ...keyAlgorithm });
  const leaf = createLeaf({ issuer: intermediate, uris: [spiffeId], ...keyAlgorithm });
  return { root, intermediate, leaf, chainPem: leaf.certPem + intermediate.certPem };
}

/** A subject alternative name for `forgeCsr`: URI (6), DNS (2) or IP (7), as node-forge spells them. */
export type ForgeSan = { type: 6; value: string } | { type: 2; value: string } | { type: 7; ip: string };

interface ForgeKeys {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}
let forgeKeys: ForgeKeys | undefined;

function forgeKeyPair(): ForgeKeys {
  if (!forgeKeys) {
    const key = generateKey('rsa-2048');
    forgeKeys = {
      privateKey: forge.pki.privateKeyFromPem(privateKeyToPem(key)),
      publicKey: forge.pki.publicKeyFromPem(
        createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string,
      ) as forge.pki.rsa.PublicKey,
    };
  }
  return forgeKeys;
}

/**
 * An RSA CSR with exactly the SANs (and subject) asked for, built and signed by node-forge alone — an
 * implementation independent of `createCsr`, for tests of what a CA refuses (no SAN, several SANs, ...).
 */
export function forgeCsr(options: { sans?: ForgeSan[]; commonName?: string } = {}): string {
  const keys = forgeKeyPair();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = keys.publicKey;
  csr.setSubject(options.commonName ? [{ name: 'commonName', value: options.commonName }] : []);
  if (options.sans?.length) {
    csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: options.sans }] }]);
  }
  csr.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** Whether an `openssl` binary is installed (tests that ask openssl's opinion skip without one). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** openssl's text dump of a PEM certificate (`x509`) or CSR (`req`), e.g. to read its signature algorithm. */
export function opensslText(command: 'x509' | 'req', pem: string, extra: string[] = []): string {
  return execFileSync('openssl', [command, '-noout', '-text', ...extra], {
    input: pem,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).toString();
}
