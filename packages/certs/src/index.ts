// @ambient-ts/certs — keys and CSRs, the Istio CA client, a certificate manager with rotation, and a
// CA server that enforces node authorization.
export { CertsError, type CertsErrorCode } from './errors.ts';
export { systemClock, ManualClock, type Clock, type Timer } from './clock.ts';
export { keyAlgorithms, type KeyAlgorithm } from './keys.ts';
export { csrIdentity } from './csr-parse.ts';
export type { CaClient, FetchOptions, WorkloadCertificate } from './ca-client.ts';
export { workloadCertificateFromChain, type ChainCheckOptions } from './response.ts';
export { IstioCaClient, type IstioCaClientOptions } from './istio-ca-client.ts';
export type { RootCertSource, TokenSource } from './ca-sources.ts';
export { LocalCa, type LocalCaOptions } from './local-ca.ts';
export {
  CertificateAuthority,
  type AuthorityClock,
  type CreateAuthorityOptions,
  type LoadAuthorityOptions,
  type IssuedCertificate,
  type ServerCertificateOptions,
} from './authority.ts';
export {
  NodeTokenIssuer,
  NodeTokenVerifier,
  type Caller,
  type NodeTokenClaims,
  type NodeTokenOptions,
  type NodeTokenVerifierOptions,
  type TokenContext,
  type TokenVerifier,
} from './tokens.ts';
export { NodeIdentityMap, type NodeWorkloadView } from './node-view.ts';
export { authorize, type AuthorizeInput, type Decision } from './authorize.ts';
export { addCaService, createCaHandler, type CaEvent, type CaServiceOptions } from './ca-service.ts';
export { CaServer, type CaServerOptions } from './ca-server.ts';
export {
  caServiceDefinition,
  createCertificatePath,
  errorCodeTrailer,
  impersonatedIdentityKey,
  type CaRequest,
  type CaResponse,
  type JsonValue,
} from './proto.ts';
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
