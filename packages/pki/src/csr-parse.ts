// Reading a CSR on the CA side (which SANs a CA accepts is the CA's rule, not this module's). Any client may send one (ztunnel's are ECDSA P-256), so parsing uses
// @peculiar/asn1-csr and the proof-of-possession signature is checked with node:crypto over the exact
// request bytes received.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Extensions, id_ce_subjectAltName, SubjectAlternativeName, type GeneralName } from '@peculiar/asn1-x509';
import { PkiError } from './errors.ts';
import { describeKey } from './keys.ts';
import { oids } from './x509-build.ts';

export interface ParsedCsr {
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo as sent. */
  publicKeyDer: Buffer;
  /** Every SAN in the request, described (`URI:spiffe://…`, `DNS:…`, `IP:…`). */
  sans: string[];
  uris: string[];
}

const hashes: Record<string, string> = {
  [oids.ecdsaWithSha256]: 'sha256',
  [oids.ecdsaWithSha384]: 'sha384',
  [oids.ecdsaWithSha512]: 'sha512',
  [oids.sha256WithRsa]: 'sha256',
  [oids.sha384WithRsa]: 'sha384',
  [oids.sha512WithRsa]: 'sha512',
};

const maxCsrBytes = 64 * 1024;

function malformed(why: string, cause?: unknown): PkiError {
  return new PkiError('CSR_MALFORMED', `the CSR is malformed: ${why}`, { cause });
}

function pemToDer(pem: string): Buffer {
  if (pem.length > maxCsrBytes) throw malformed(`it is larger than ${maxCsrBytes} bytes`);
  const match = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(
    pem,
  );
  if (!match) throw malformed('no "-----BEGIN CERTIFICATE REQUEST-----" block found');
  const body = match[2]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw malformed('the PEM body is not base64');
  return Buffer.from(body, 'base64');
}

function describeName(name: GeneralName): string {
  if (name.uniformResourceIdentifier !== undefined) return `URI:${name.uniformResourceIdentifier}`;
  if (name.dNSName !== undefined) return `DNS:${name.dNSName}`;
  if (name.iPAddress !== undefined) return `IP:${name.iPAddress}`;
  if (name.rfc822Name !== undefined) return `email:${name.rfc822Name}`;
  return 'othername';
}

function readSans(request: CertificationRequest): string[] {
  const sans: string[] = [];
  for (const attribute of request.certificationRequestInfo.attributes ?? []) {
    if (attribute.type !== oids.extensionRequest) continue;
    for (const value of attribute.values) {
      for (const ext of AsnConvert.parse(value, Extensions)) {
        if (ext.extnID !== id_ce_subjectAltName) continue;
        sans.push(...AsnConvert.parse(ext.extnValue.buffer, SubjectAlternativeName).map(describeName));
      }
    }
  }
  return sans;
}

/** Parse a PEM CSR and verify its self-signature. Throws PkiError CSR_MALFORMED / CSR_BAD_SIGNATURE / KEY_UNSUPPORTED. */
export function parseCsr(pem: string): ParsedCsr {
  if (typeof pem !== 'string' || pem.length === 0) throw malformed('it is empty');
  const der = pemToDer(pem);
  let request: CertificationRequest;
  let sans: string[];
  let publicKey: KeyObject;
  let publicKeyDer: Buffer;
  try {
    request = AsnConvert.parse(der, CertificationRequest);
    publicKeyDer = Buffer.from(AsnConvert.serialize(request.certificationRequestInfo.subjectPKInfo));
    publicKey = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
    sans = readSans(request);
  } catch (error) {
    throw malformed(`it is not a DER CertificationRequest (${(error as Error).message})`, error);
  }
  describeKey(publicKey);
  const hash = hashes[request.signatureAlgorithm.algorithm];
  if (!hash) {
    throw new PkiError(
      'CSR_BAD_SIGNATURE',
      `the CSR is signed with algorithm ${request.signatureAlgorithm.algorithm}; use ECDSA or RSA PKCS#1 v1.5 with SHA-256`,
    );
  }
  const signed = request.certificationRequestInfoRaw;
  let valid: boolean;
  try {
    valid =
      signed !== undefined &&
      verify(hash, new Uint8Array(signed), { key: publicKey, dsaEncoding: 'der' }, new Uint8Array(request.signature));
  } catch {
    valid = false; // e.g. an ECDSA signature that is not valid DER
  }
  if (!valid) {
    throw new PkiError('CSR_BAD_SIGNATURE', 'the CSR signature does not verify with the public key it contains');
  }
  const uris = sans.filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));
  return { publicKey, publicKeyDer, sans, uris };
}
