// The signing core of a CA, without any transport: holds the signing certificate and key, the
// intermediates above it and the trust anchors, and issues workload and server certificates.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { parseTrustDomain, splitPem } from '@ambient-ts/spiffe';
import { CaError } from './errors.ts';
import {
  buildCertificate,
  describeKey,
  distinguishedName,
  generatePrivateKey,
  PkiError,
  privateKeyToPem,
  signerFor,
  spkiDer,
  type Signer,
} from '@ambient-ts/pki';
import { caKeyAlgorithm, loadPrivateKey, type CaKeyAlgorithm } from './keys.ts';

const day = 86_400;
const systemClock: AuthorityClock = { now: () => Date.now() };

export interface AuthorityClock {
  now(): number;
}

export interface CreateAuthorityOptions {
  /** Trust domain this CA issues identities for, e.g. `cluster.local`. */
  trustDomain: string;
  /** Key of the self-signed root. Default `ec-p256`. */
  keyAlgorithm?: CaKeyAlgorithm;
  /** Root subject common name; the organization is the trust domain, as in Istio's self-signed root. */
  commonName?: string;
  /** Root lifetime. Default 10 years. */
  ttlSeconds?: number;
  clock?: AuthorityClock;
}

export interface LoadAuthorityOptions {
  trustDomain: string;
  /** The signing certificate (a root or an intermediate), PEM. */
  certPem: string;
  /** Its private key, PEM. */
  keyPem: string;
  /** Intermediates between the signing certificate and the root, PEM, nearest first (roots are skipped). */
  chainPem?: string;
  /** Every trust anchor to hand out (may hold several roots during a root rotation). Default: the
   * signing certificate itself when it is self-signed. */
  rootCertsPem?: string;
  clock?: AuthorityClock;
}

export interface IssuedCertificate {
  /** Leaf first, then intermediates, PEM. */
  certChainPem: string;
  privateKeyPem: string;
  rootCertsPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface ServerCertificateOptions {
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Also name a SPIFFE identity (e.g. the control plane's own). */
  uris?: string[];
  ttlSeconds?: number;
  keyAlgorithm?: CaKeyAlgorithm;
}

function parseCerts(pem: string, what: string): X509Certificate[] {
  try {
    return splitPem(pem).map((block) => new X509Certificate(block));
  } catch (error) {
    throw new CaError('CA_BAD_PEM', `${what} holds a certificate that cannot be parsed`, { cause: error });
  }
}

function selfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

export class CertificateAuthority {
  readonly trustDomain: string;
  readonly signingCertificate: X509Certificate;
  /** Intermediates sent after each leaf (the signing certificate when it is not a root). */
  readonly intermediates: readonly X509Certificate[];
  readonly roots: readonly X509Certificate[];
  readonly #signer: Signer;
  readonly #clock: AuthorityClock;
  readonly #key: KeyObject;

  private constructor(
    trustDomain: string,
    signingCertificate: X509Certificate,
    key: KeyObject,
    intermediates: X509Certificate[],
    roots: X509Certificate[],
    clock: AuthorityClock,
  ) {
    this.trustDomain = trustDomain;
    this.signingCertificate = signingCertificate;
    this.intermediates = intermediates;
    this.roots = roots;
    this.#signer = signerFor(signingCertificate, key);
    this.#clock = clock;
    this.#key = key;
  }

  /**
   * The signing certificate and its private key as PEM, for persisting a CA made with `create` and
   * loading it again with `load` (the key is a secret: store it with mode 0600).
   */
  exportPem(): { certPem: string; keyPem: string; chainPem: string; rootCertsPem: string } {
    return {
      certPem: this.signingCertificate.toString(),
      keyPem: privateKeyToPem(this.#key),
      chainPem: this.intermediates.map((certificate) => certificate.toString()).join(''),
      rootCertsPem: this.roots.map((certificate) => certificate.toString()).join(''),
    };
  }

  /** A CA with a fresh self-signed root. */
  static async create(options: CreateAuthorityOptions): Promise<CertificateAuthority> {
    const trustDomain = checkTrustDomain(options.trustDomain);
    const key = await generatePrivateKey(caKeyAlgorithm(options.keyAlgorithm, 'CertificateAuthority.create'));
    const clock = options.clock ?? systemClock;
    const now = clock.now();
    const subject = distinguishedName({ organization: trustDomain, commonName: options.commonName });
    const root = buildCertificate({
      subject,
      subjectPublicKey: spkiDer(key),
      selfKey: key,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.ttlSeconds ?? 10 * 365 * day) * 1000),
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    });
    return new CertificateAuthority(trustDomain, root, key, [], [root], clock);
  }

  /** A CA signing with existing material (Istio's "plugged-in" ca-cert/ca-key/cert-chain/root-cert). */
  static load(options: LoadAuthorityOptions): CertificateAuthority {
    const trustDomain = checkTrustDomain(options.trustDomain);
    const [cert] = parseCerts(options.certPem, 'certPem');
    if (!cert) throw new CaError('CA_BAD_PEM', 'certPem holds no "-----BEGIN CERTIFICATE-----" block');
    const key = loadPrivateKey(options.keyPem, 'keyPem');
    try {
      describeKey(key);
    } catch (error) {
      if (!PkiError.isPkiError(error)) throw error;
      throw new CaError('KEY_UNSUPPORTED', `keyPem: ${error.message}`, { cause: error });
    }
    if (!cert.ca)
      throw new CaError('CA_NOT_A_CA', `certificate "${cert.subject}" is not a CA (basicConstraints cA=false)`);
    if (!spkiDer(createPublicKey(key)).equals(spkiDer(cert.publicKey))) {
      throw new CaError('CA_KEY_MISMATCH', `keyPem is not the private key of certificate "${cert.subject}"`);
    }
    const clock = options.clock ?? systemClock;
    if (cert.validToDate.getTime() <= clock.now()) {
      throw new CaError('CA_EXPIRED', `CA certificate "${cert.subject}" expired at ${cert.validToDate.toISOString()}`);
    }
    const isRoot = selfSigned(cert);
    const chain = parseCerts(options.chainPem ?? '', 'chainPem').filter(
      (other) => !selfSigned(other) && other.fingerprint256 !== cert.fingerprint256,
    );
    const roots = options.rootCertsPem ? parseCerts(options.rootCertsPem, 'rootCertsPem') : isRoot ? [cert] : [];
    if (roots.length === 0) {
      throw new CaError('INVALID_OPTIONS', 'the signing certificate is an intermediate: pass rootCertsPem (its root)');
    }
    return new CertificateAuthority(trustDomain, cert, key, isRoot ? [] : [cert, ...chain], roots, clock);
  }

  /** All trust anchors, concatenated PEM (what the CA answer's last element holds). */
  get rootCertsPem(): string {
    return this.roots.map((root) => root.toString()).join('');
  }

  /** The newest expiry a certificate from this CA can have. */
  get notAfter(): Date {
    return this.signingCertificate.validToDate;
  }

  #validity(ttlSeconds: number): { notBefore: Date; notAfter: Date } {
    const now = this.#clock.now();
    if (now >= this.notAfter.getTime()) {
      throw new CaError(
        'CA_EXPIRED',
        `the CA's signing certificate expired at ${this.notAfter.toISOString()}; load or create a new one`,
      );
    }
    // ASN.1 times have second precision; round down so a fresh certificate is valid immediately.
    const notBefore = new Date(Math.floor(now / 1000) * 1000);
    const notAfter = new Date(Math.min(now + ttlSeconds * 1000, this.notAfter.getTime()));
    return { notBefore, notAfter };
  }

  /**
   * Issue a workload certificate for `identity` to `publicKeyDer` (the CSR's key). Callers decide
   * whether the identity may be issued; this only signs. Returns the response chain, leaf first.
   */
  signWorkload(identity: string, publicKeyDer: Uint8Array, ttlSeconds: number): string[] {
    const leaf = buildCertificate({
      subject: distinguishedName({}),
      subjectPublicKey: publicKeyDer,
      signer: this.#signer,
      ...this.#validity(ttlSeconds),
      isCa: false,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      sans: { uris: [identity] },
    });
    return [leaf.toString(), ...this.intermediates.map((cert) => cert.toString()), this.rootCertsPem];
  }

  /** A TLS server certificate (e.g. for a control plane's CA/xDS port) with its new private key. */
  async issueServerCertificate(options: ServerCertificateOptions): Promise<IssuedCertificate> {
    const dnsNames = options.dnsNames ?? [];
    const ipAddresses = options.ipAddresses ?? [];
    for (const ip of ipAddresses) {
      if (isIP(ip) === 0)
        throw new CaError('INVALID_OPTIONS', `ipAddresses: ${JSON.stringify(ip)} is not an IP address`);
    }
    if (dnsNames.length + ipAddresses.length + (options.uris?.length ?? 0) === 0) {
      throw new CaError('INVALID_OPTIONS', 'issueServerCertificate needs at least one DNS name, IP address or URI');
    }
    const key = await generatePrivateKey(caKeyAlgorithm(options.keyAlgorithm, 'issueServerCertificate'));
    const validity = this.#validity(options.ttlSeconds ?? 365 * day);
    const leaf = buildCertificate({
      subject: distinguishedName({ organization: this.trustDomain, commonName: dnsNames[0] ?? ipAddresses[0] }),
      subjectPublicKey: spkiDer(key),
      signer: this.#signer,
      ...validity,
      isCa: false,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      sans: { dnsNames, ipAddresses, uris: options.uris ?? [] },
    });
    return {
      certChainPem: [leaf, ...this.intermediates].map((cert) => cert.toString()).join(''),
      privateKeyPem: privateKeyToPem(key),
      rootCertsPem: this.rootCertsPem,
      ...validity,
    };
  }

  /** Create an intermediate CA signed by this one (e.g. to test chains, or to delegate a node CA). */
  async createIntermediate(
    options: { commonName?: string; ttlSeconds?: number; keyAlgorithm?: CaKeyAlgorithm } = {},
  ): Promise<CertificateAuthority> {
    const key = await generatePrivateKey(caKeyAlgorithm(options.keyAlgorithm, 'createIntermediate'));
    const cert = buildCertificate({
      subject: distinguishedName({ organization: this.trustDomain, commonName: options.commonName ?? 'intermediate' }),
      subjectPublicKey: spkiDer(key),
      signer: this.#signer,
      ...this.#validity(options.ttlSeconds ?? 365 * day),
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    });
    return CertificateAuthority.load({
      trustDomain: this.trustDomain,
      certPem: cert.toString(),
      keyPem: privateKeyToPem(key),
      chainPem: this.intermediates.map((c) => c.toString()).join(''),
      rootCertsPem: this.rootCertsPem,
      clock: this.#clock,
    });
  }
}

function checkTrustDomain(trustDomain: string): string {
  try {
    return parseTrustDomain(trustDomain);
  } catch (error) {
    throw new CaError('INVALID_OPTIONS', `trustDomain: ${(error as Error).message}`, { cause: error });
  }
}
