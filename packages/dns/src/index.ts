// @ambient-ts/dns — ztunnel's DNS proxy: mesh Service names answered authoritatively from the workload store
// from the client pod's point of view, every other query forwarded to the upstream nameservers (UDP, TCP
// retry on truncation), over UDP and TCP sockets the caller binds. Wire handling is dns-packet's, converted
// to our model at the edge (wire.ts).
export {
  LOCAL_TTL_SECONDS,
  MIN_UDP_PAYLOAD,
  type AddressType,
  type DnsProtocol,
  type DnsQuery,
  type DnsQuestion,
  type LocalRecord,
  type Rcode,
} from './model.ts';
export { DnsError, type DnsErrorCode } from './errors.ts';

// names and the mesh resolver (pure)
export {
  aliases,
  kubernetesExpansions,
  normalizeName,
  podSearchDomains,
  trimDomain,
  wildcardCandidates,
  type Alias,
} from './names.ts';
export {
  familyAllowed,
  findService,
  pickService,
  resolveMesh,
  serviceAddresses,
  type DnsClient,
  type LocalResult,
  type MeshResolution,
  type MeshResolverOptions,
  type MeshView,
} from './resolver.ts';

// wire edge
export {
  addressesOf,
  decodeIncoming,
  encodeQuery,
  encodeResponse,
  forwardedResponse,
  udpLimit,
  type Incoming,
} from './wire.ts';

// upstreams
export { parseResolvConf, readResolvConf, type ResolvConf, type Upstream } from './resolv-conf.ts';
export {
  Forwarder,
  defaultUpstreamSockets,
  type Forwarded,
  type ForwarderOptions,
  type UpstreamSockets,
} from './forwarder.ts';

// serving
export { bindDnsSockets, type DnsSockets } from './bind.ts';
export {
  serveDns,
  type DnsMessageContext,
  type DnsRemote,
  type DnsTransport,
  type DnsTransportOptions,
  type TransportDrop,
} from './server.ts';
export {
  DnsProxy,
  type DnsEvent,
  type DnsProxyOptions,
  type DnsQueryEvent,
  type DnsRejectedEvent,
  type DnsRequest,
} from './proxy.ts';
