// @ambient-ts/ca — the CA side of Istio's certificate API: a signing authority, node tokens, node
// authorization, and the istio.v1.auth.IstioCertificateService gRPC service and server.
export { CaError, type CaErrorCode } from './errors.ts';
export type { CaKeyAlgorithm } from './keys.ts';
export {
  CertificateAuthority,
  type AuthorityClock,
  type CreateAuthorityOptions,
  type LoadAuthorityOptions,
  type IssuedCertificate,
  type ServerCertificateOptions,
} from './authority.ts';
export { csrIdentity } from './csr-parse.ts';
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
export { caServiceDefinition, errorCodeTrailer, impersonatedIdentityKey, type JsonValue } from './proto.ts';
/** The CA API's request/response shapes and codec (over @ambient-ts/istio-api), shared with the client in
 * @ambient-ts/certs. */
export * as caWire from './proto.ts';
