// @ambient-ts/pki — PKI primitives: keys, CSRs (build and parse), X.509 certificates (build and sign).
// The one package that wraps node-forge and @peculiar/asn1-*; it knows nothing of SPIFFE or Istio (SAN
// URIs are plain strings), so every other package may use it. Test fixtures: `@ambient-ts/pki/testing`.
export { PkiError, type PkiErrorCode } from './errors.ts';
export {
  describeKey,
  generatePrivateKey,
  generatePrivateKeySync,
  isKeyAlgorithm,
  keyAlgorithms,
  pickKeyAlgorithm,
  privateKeyToPem,
  spkiDer,
  type KeyAlgorithm,
  type KeyDescription,
} from './keys.ts';
export { createCsr, toPem } from './csr.ts';
export { parseCsr, type ParsedCsr } from './csr-parse.ts';
export {
  buildCertificate,
  distinguishedName,
  oids,
  signerFor,
  type CertificateTemplate,
  type ExtKeyUsageName,
  type KeyUsageName,
  type Signer,
  type SubjectAltNames,
} from './x509-build.ts';
