// Test-fixture X.509 generator: roots, intermediates and leaves with chosen SANs, validity and usages.
// Certificates are built field by field (ASN.1 via @peculiar/asn1-x509) and signed with node:crypto, so a
// test can ask for exactly the defect it needs (expired, CA leaf, two URI SANs, ...). Nothing here is
// hand-edited PEM: every fixture is produced at test time.
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning';

/** A generated certificate with its key, in every form a test may want. */
export interface Fixture {
  readonly cert: X509Certificate;
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly key: KeyObject;
  readonly keyPem: string;
  readonly subject: Name;
  readonly subjectKeyId: Buffer;
}

export interface CertOptions {
  /** Common name for the subject; leaves default to an empty subject, as Istio's CA issues them. */
  commonName?: string;
  /** Issuing fixture; omitted means self-signed. */
  issuer?: Fixture;
  keyAlgorithm?: KeyAlgorithm;
  /** Defaults: one hour ago until one day from now. */
  notBefore?: Date;
  notAfter?: Date;
  /** URI SANs, e.g. SPIFFE IDs. */
  uris?: string[];
  dnsNames?: string[];
  /** Basic constraints cA flag; omitted means no basicConstraints extension unless isCa is set. */
  isCa?: boolean;
  pathLen?: number;
  /** Key usage bits; null omits the extension. */
  keyUsage?: KeyUsageName[] | null;
  keyUsageCritical?: boolean;
  extKeyUsage?: ExtKeyUsageName[] | null;
  /** Mark the SAN extension critical (required by RFC 5280 when the subject is empty). */
  sanCritical?: boolean;
}

const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

const hour = 3_600_000;

export function generateKey(algorithm: KeyAlgorithm = 'ec-p256'): KeyObject {
  const pair =
    algorithm === 'ec-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair.privateKey;
}

function attribute(type: string, text: string): RelativeDistinguishedName {
  const value = new AttributeTypeAndValue({ type });
  value.value.utf8String = text;
  return new RelativeDistinguishedName([value]);
}

function name(commonName: string | undefined): Name {
  if (commonName === undefined) return new Name();
  return new Name([attribute(oids.organization, 'ambient-ts fixtures'), attribute(oids.commonName, commonName)]);
}

function extension(id: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function keyUsageBits(names: KeyUsageName[]): number {
  return names.reduce((bits, usage) => bits | KeyUsageFlags[usage], 0);
}

function signatureAlgorithm(key: KeyObject): AlgorithmIdentifier {
  return key.asymmetricKeyType === 'ec'
    ? new AlgorithmIdentifier({ algorithm: oids.ecdsaWithSha256 })
    : new AlgorithmIdentifier({ algorithm: oids.sha256WithRsa, parameters: null });
}

function publicKeyInfo(key: KeyObject): { spki: SubjectPublicKeyInfo; keyId: Buffer } {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const spki = AsnConvert.parse(der, SubjectPublicKeyInfo);
  // RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
  const keyId = createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
  return { spki, keyId };
}

/** Build and sign one certificate. */
export function createCertificate(options: CertOptions = {}): Fixture {
  const key = generateKey(options.keyAlgorithm);
  const { spki, keyId } = publicKeyInfo(key);
  const subject = name(options.commonName);
  const issuerName = options.issuer?.subject ?? subject;
  const issuerKeyId = options.issuer?.subjectKeyId ?? keyId;
  const signingKey = options.issuer?.key ?? key;
  const now = Date.now();

  const extensions: Extension[] = [
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId)),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuerKeyId) }),
    ),
  ];
  if (options.isCa !== undefined) {
    const constraints = new BasicConstraints({ cA: options.isCa });
    if (options.pathLen !== undefined) constraints.pathLenConstraint = options.pathLen;
    extensions.push(extension(id_ce_basicConstraints, true, constraints));
  }
  if (options.keyUsage !== null && options.keyUsage !== undefined) {
    extensions.push(
      extension(id_ce_keyUsage, options.keyUsageCritical ?? true, new KeyUsage(keyUsageBits(options.keyUsage))),
    );
  }
  if (options.extKeyUsage !== null && options.extKeyUsage !== undefined) {
    extensions.push(
      extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(options.extKeyUsage.map((usage) => oids[usage]))),
    );
  }
  const generalNames = [
    ...(options.uris ?? []).map((uri) => new GeneralName({ uniformResourceIdentifier: uri })),
    ...(options.dnsNames ?? []).map((dns) => new GeneralName({ dNSName: dns })),
  ];
  if (generalNames.length > 0) {
    const critical = options.sanCritical ?? options.commonName === undefined;
    extensions.push(extension(id_ce_subjectAltName, critical, new SubjectAlternativeName(generalNames)));
  }

  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and minimal DER INTEGER (no leading 0x00)
  const algorithm = signatureAlgorithm(signingKey);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.byteLength),
    signature: algorithm,
    issuer: issuerName,
    validity: new Validity({
      notBefore: options.notBefore ?? new Date(now - hour),
      notAfter: options.notAfter ?? new Date(now + 24 * hour),
    }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, { key: signingKey, dsaEncoding: 'der' });
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  const certDer = Buffer.from(AsnConvert.serialize(certificate));
  const cert = new X509Certificate(certDer);
  return {
    cert,
    certDer,
    certPem: cert.toString(),
    key,
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    subject,
    subjectKeyId: keyId,
  };
}

/** A CA certificate (root when no issuer is given). */
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

export function createChain(spiffeId: string, options: { rootName?: string; root?: Fixture } = {}): Chain {
  const root = options.root ?? createCa({ commonName: options.rootName ?? 'ambient-ts test root' });
  const intermediate = createCa({ commonName: 'ambient-ts test intermediate', issuer: root });
  const leaf = createLeaf({ issuer: intermediate, uris: [spiffeId] });
  return { root, intermediate, leaf, chainPem: leaf.certPem + intermediate.certPem };
}
