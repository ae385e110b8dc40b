// @ambient-ts/certs — workload certificates for a proxy: the CA client interface, the Istio CA client and
// an in-process CA (LocalCa), a certificate manager with rotation, and the credential source proxies
// hand to HBONE. The CA server is @ambient-ts/ca; keys, CSRs and X.509 are @ambient-ts/pki.
export { CertsError, type CertsErrorCode } from './errors.ts';
export { systemClock, ManualClock, type Clock, type Timer } from './clock.ts';
export { keyAlgorithms, type KeyAlgorithm } from './keys.ts';
export type { CaClient, FetchOptions, WorkloadCertificate } from './ca-client.ts';
export { workloadCertificateFromChain, type ChainCheckOptions } from './response.ts';
export { IstioCaClient, type IstioCaClientOptions } from './istio-ca-client.ts';
export type { RootCertSource, TokenSource } from './ca-sources.ts';
export { LocalCa, type LocalCaOptions } from './local-ca.ts';
export { createCaClient, type CaClientRole, type CaClientSettings } from './create-ca-client.ts';
export { CredentialSource, type WorkloadCredentials } from './credentials.ts';
export {
  CertificateManager,
  type CertificateManagerEvents,
  type CertificateManagerOptions,
  type GetCertificateOptions,
} from './manager.ts';
export type { CertificateStatus, CertState } from './manager-state.ts';
export type { CertificateDump, CertificateDumpEntry } from './manager-dump.ts';
export { type Priority } from './fetch-queue.ts';
export { backoffDelay, refreshTime, defaultBackoff, type BackoffPolicy } from './schedule.ts';
