// @ambient-ts/spiffe — SPIFFE IDs, Istio identities, trust bundles and X.509-SVID verification.
export { SpiffeError, type SpiffeErrorCode } from './errors.ts';
export {
  SpiffeId,
  parseTrustDomain,
  sameTrustDomain,
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
} from './spiffe-id.ts';
export {
  parseIstioIdentity,
  tryParseIstioIdentity,
  formatIstioIdentity,
  istioSpiffeId,
  identityEquals,
  type IstioIdentity,
  type ParseIstioOptions,
} from './istio-identity.ts';
export { TrustBundle, TrustBundleSet, type TrustBundleSetEvents } from './trust-bundle.ts';
export { toCertificates, splitPem, type CertificateInput } from './certificates.ts';
export { readFields as readCertificateFields, type CertificateFields, type KeyUsageName } from './x509-fields.ts';
export { verifyX509Svid, type SvidMode, type VerifySvidOptions, type VerifiedSvid } from './svid.ts';
