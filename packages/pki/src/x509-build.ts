// Certificates built field by field with @peculiar/asn1-x509 and signed by node:crypto. node-forge cannot
// do this here: it has no ECDSA, so it can neither sign with an EC CA key nor carry an EC subject key
// (docs/decisions/0002-pki-libraries.md). This is the one X.509 builder of the repo: the CA signs with it
// and the `./testing` fixtures are made with it.
import { createHash, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
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
import { PkiError } from './errors.ts';
import { describeKey, spkiDer } from './keys.ts';

export const oids = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  extensionRequest: '1.2.840.113549.1.9.14',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning';

export type KeyUsageName = keyof typeof KeyUsageFlags;

export function distinguishedName(parts: { organization?: string; commonName?: string }): Name {
  const rdns: RelativeDistinguishedName[] = [];
  const add = (type: string, text: string | undefined): void => {
    if (text === undefined) return;
    const value = new AttributeTypeAndValue({ type });
    value.value.utf8String = text;
    rdns.push(new RelativeDistinguishedName([value]));
  };
  add(oids.organization, parts.organization);
  add(oids.commonName, parts.commonName);
  return new Name(rdns);
}

export function extension(id: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export interface SubjectAltNames {
  uris?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

export function subjectAltNames(names: SubjectAltNames): GeneralName[] {
  return [
    ...(names.uris ?? []).map((uri) => new GeneralName({ uniformResourceIdentifier: uri })),
    ...(names.dnsNames ?? []).map((dns) => new GeneralName({ dNSName: dns })),
    ...(names.ipAddresses ?? []).map((ip) => new GeneralName({ iPAddress: ip })),
  ];
}

/** The signature algorithm a key signs with, and the digest to use. */
export function signatureAlgorithmFor(key: KeyObject): { algorithm: AlgorithmIdentifier; hash: string } {
  const described = describeKey(key);
  if (described.kind === 'ec') {
    const algorithm = described.hash === 'sha384' ? oids.ecdsaWithSha384 : oids.ecdsaWithSha256;
    return { algorithm: new AlgorithmIdentifier({ algorithm }), hash: described.hash };
  }
  return { algorithm: new AlgorithmIdentifier({ algorithm: oids.sha256WithRsa, parameters: null }), hash: 'sha256' };
}

/** DER-sign bytes with a key; ECDSA signatures in the DER (X.509) encoding. */
export function signBytes(key: KeyObject, hash: string, data: Uint8Array): Buffer {
  return sign(hash, data, { key, dsaEncoding: 'der' });
}

export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  return AsnConvert.parse(der, SubjectPublicKeyInfo);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Buffer {
  return createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
}

/** A positive 128-bit serial number (RFC 5280 allows up to 20 octets). */
export function randomSerial(): ArrayBuffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and never a short (leading-zero) encoding
  return serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.byteLength);
}

export interface Signer {
  name: Name;
  key: KeyObject;
  keyId: Buffer;
}

export interface CertificateTemplate {
  subject: Name;
  /** DER SubjectPublicKeyInfo of the key being certified. */
  subjectPublicKey: Uint8Array;
  /** Omitted: self-signed with `selfKey`. */
  signer?: Signer;
  selfKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** Basic constraints cA flag (critical); omitted: no basicConstraints extension (fixtures only). */
  isCa?: boolean;
  pathLength?: number;
  /** Key usage bits; omitted: no keyUsage extension (fixtures only). */
  keyUsage?: KeyUsageName[];
  /** Default true. */
  keyUsageCritical?: boolean;
  extKeyUsage?: ExtKeyUsageName[];
  sans?: SubjectAltNames;
  /** Default: critical exactly when the subject is empty (RFC 5280 §4.2.1.6). */
  sanCritical?: boolean;
}

/** Build, sign and return a certificate. */
export function buildCertificate(template: CertificateTemplate): X509Certificate {
  const spki = parseSpki(template.subjectPublicKey);
  const keyId = keyIdentifier(spki);
  const signingKey = template.signer?.key ?? template.selfKey;
  if (!signingKey) throw new PkiError('INVALID_INPUT', 'buildCertificate needs a signer or a self-signing key');
  const issuerName = template.signer?.name ?? template.subject;
  const issuerKeyId = template.signer?.keyId ?? keyId;

  const extensions: Extension[] = [];
  if (template.isCa !== undefined) {
    const constraints = new BasicConstraints({ cA: template.isCa });
    if (template.pathLength !== undefined) constraints.pathLenConstraint = template.pathLength;
    extensions.push(extension(id_ce_basicConstraints, true, constraints));
  }
  if (template.keyUsage !== undefined) {
    const usage = template.keyUsage.reduce((bits, name) => bits | KeyUsageFlags[name], 0);
    extensions.push(extension(id_ce_keyUsage, template.keyUsageCritical ?? true, new KeyUsage(usage)));
  }
  extensions.push(
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId)),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuerKeyId) }),
    ),
  );
  if (template.extKeyUsage?.length) {
    const ekus = template.extKeyUsage.map((name) => oids[name]);
    extensions.push(extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(ekus)));
  }
  const names = subjectAltNames(template.sans ?? {});
  if (names.length > 0) {
    // RFC 5280: with an empty subject the SAN extension must be critical.
    const critical = template.sanCritical ?? template.subject.length === 0;
    extensions.push(extension(id_ce_subjectAltName, critical, new SubjectAlternativeName(names)));
  }

  const { algorithm, hash } = signatureAlgorithmFor(signingKey);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: algorithm,
    issuer: issuerName,
    validity: new Validity({ notBefore: template.notBefore, notAfter: template.notAfter }),
    subject: template.subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const signature = signBytes(signingKey, hash, new Uint8Array(AsnConvert.serialize(tbs)));
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return new X509Certificate(Buffer.from(AsnConvert.serialize(certificate)));
}

/** The pieces of an issuing certificate a signer needs. */
export function signerFor(cert: X509Certificate, key: KeyObject): Signer {
  const tbs = AsnConvert.parse(cert.raw, Certificate).tbsCertificate;
  // The authority key identifier must repeat the issuer's own subject key identifier when it has one.
  const ski = tbs.extensions?.find((ext) => ext.extnID === id_ce_subjectKeyIdentifier);
  const keyId = ski
    ? Buffer.from(AsnConvert.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer)
    : keyIdentifier(parseSpki(spkiDer(cert.publicKey)));
  return { name: tbs.subject, key, keyId };
}
