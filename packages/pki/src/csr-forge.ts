// RSA CSRs through node-forge, the PKI library of record. forge builds and encodes the request; the
// RSA signature itself is computed by node:crypto (forge's pure-JS RSA takes ~24 ms per signature and
// blocks the event loop meanwhile; see docs/decisions/0002-pki-libraries.md).
import { constants, privateEncrypt, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { spkiDer } from './keys.ts';

// DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): RSASSA-PKCS1-v1_5 signs prefix || digest.
const sha256DigestInfo = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** A forge-compatible RSA signer whose private-key operation runs natively. */
function nativeSigner(key: KeyObject): { sign(md: forge.md.MessageDigest): string } {
  return {
    sign(md) {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const encoded = Buffer.concat([sha256DigestInfo, digest]);
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, encoded).toString('binary');
    },
  };
}

/** PEM CSR with an empty subject and one critical URI SAN, signed SHA-256 with RSA. */
export function createRsaCsr(identity: string, privateKey: KeyObject): string {
  const csr = forge.pki.createCertificationRequest();
  const spki = forge.asn1.fromDer(forge.util.createBuffer(spkiDer(privateKey).toString('binary')));
  csr.publicKey = forge.pki.publicKeyFromAsn1(spki);
  csr.setSubject([]);
  csr.setAttributes([
    {
      name: 'extensionRequest',
      extensions: [{ name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: identity }] }],
    },
  ]);
  csr.sign(nativeSigner(privateKey) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
