// Certificate signing requests the way ztunnel sends them: empty subject, exactly one URI SAN (the
// SPIFFE ID, marked critical; this package takes it as a URI string and leaves SPIFFE rules to its
// callers), signed with the digest that matches the key (SHA-256; SHA-384 for P-384). ECDSA requests are built with @peculiar/asn1-csr
// (node-forge has no ECDSA); RSA requests go through node-forge.
import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { Attribute, Extensions, id_ce_subjectAltName, Name, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { createRsaCsr } from './csr-forge.ts';
import { PkiError } from './errors.ts';
import { describeKey, spkiDer } from './keys.ts';
import { extension, oids, parseSpki, signatureAlgorithmFor, signBytes, subjectAltNames } from './x509-build.ts';

export function toPem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function createEcCsr(identity: string, privateKey: KeyObject): string {
  const extensions = new Extensions([
    extension(id_ce_subjectAltName, true, new SubjectAlternativeName(subjectAltNames({ uris: [identity] }))),
  ]);
  const info = new CertificationRequestInfo({
    version: 0,
    subject: new Name(),
    subjectPKInfo: parseSpki(spkiDer(privateKey)),
    attributes: new Attributes([
      new Attribute({ type: oids.extensionRequest, values: [AsnConvert.serialize(extensions)] }),
    ]),
  });
  const { algorithm, hash } = signatureAlgorithmFor(privateKey);
  const signature = signBytes(privateKey, hash, new Uint8Array(AsnConvert.serialize(info)));
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: algorithm,
    signature: new Uint8Array(signature).buffer,
  });
  return toPem('CERTIFICATE REQUEST', new Uint8Array(AsnConvert.serialize(request)));
}

/**
 * A PEM CSR with one critical URI SAN `uri` (e.g. a SPIFFE ID), signed by `privateKey` (EC P-256/P-384
 * or RSA). Throws INVALID_INPUT for a `uri` that is not an absolute URI, KEY_UNSUPPORTED for other keys.
 */
export function createCsr(uri: string, privateKey: KeyObject): string {
  if (typeof uri !== 'string' || !URL.canParse(uri)) {
    throw new PkiError('INVALID_INPUT', `the CSR's SAN ${JSON.stringify(uri)} is not an absolute URI`);
  }
  const key = describeKey(privateKey);
  return key.kind === 'rsa' ? createRsaCsr(uri, privateKey) : createEcCsr(uri, privateKey);
}
