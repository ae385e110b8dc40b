// @ambient-ts/hbone — HBONE tunnels: HTTP/2 CONNECT over mutual TLS, pooled clients, double HBONE, PROXY protocol v2.
export { HboneError, type HboneErrorCode, type HboneErrorDetails } from './errors.ts';
export { parseAuthority, type HboneAuthority } from './authority.ts';
// The formatters live in @ambient-ts/addresses; re-exported because this package's API promises them.
export { formatAuthority, formatSocketAddress, type SocketAddress } from '@ambient-ts/addresses';
export {
  BAGGAGE_HEADER,
  FORWARDED_HEADER,
  TRACEPARENT_HEADER,
  FORWARDED_NETWORK_HEADER,
  formatBaggage,
  parseBaggage,
  formatForwarded,
  parseForwarded,
  newTraceparent,
  parseTraceparent,
  isFromOtherNetwork,
  type BaggageFields,
  type TraceParent,
} from './headers.ts';
export {
  encodeProxyHeader,
  decodeProxyHeader,
  PROXY_V2_SIGNATURE,
  PP2_TYPE_PEER_IDENTITY,
  PP2_TYPE_SERVICE_HOSTNAME,
  type ProxyHeader,
  type ProxyTlv,
  type EncodeProxyOptions,
  type DecodeProxyResult,
} from './proxy-protocol.ts';
export { splice, Splice, classifyResetCode, resetStream, type SpliceResult, type SpliceOutcome } from './copy.ts';
export {
  TLS13_CIPHER_SUITES,
  TLS12_CIPHERS,
  ECDH_GROUPS,
  tlsContextOptions,
  type TlsCredentials,
} from './tls-config.ts';
export { verifyClientPeer, verifyServerPeer, type PeerExpectation } from './peer-verify.ts';
export { HBONE_DEFAULTS, type Http2Tuning, type KeepaliveOptions } from './settings.ts';
export { createHboneServer, HboneServer } from './server.ts';
export type { HboneServerOptions, HboneServerState, HboneServerStats, HboneServerEvents } from './server-options.ts';
export type { CredentialSource } from './server-accept.ts';
export type { ConnectRequest, ConnectRequestState, AcceptedTunnel } from './server-request.ts';
export {
  HboneConnection,
  type HboneTunnel,
  type OpenTunnelOptions,
  type ClientConnectionState,
} from './client-connection.ts';
export { dialHbone, type DialOptions } from './dial.ts';
export { defaultSocketFactory, type SocketFactory, type SocketTarget } from './socket-factory.ts';
export {
  HbonePool,
  poolKey,
  type HbonePoolOptions,
  type HbonePoolState,
  type PoolConnectOptions,
  type HbonePoolStats,
} from './pool.ts';
export { connectDoubleHbone, type DoubleHboneOptions, type DoubleHboneTunnel } from './double.ts';
