// @ambient-ts/discovery — Istio workload discovery: the domain model, wire→domain conversion, the indexed
// store, routing decisions, static config, and the xDS handlers that feed the store. Wire types and codecs
// are @ambient-ts/istio-api's; the xDS protocol is @ambient-ts/xds's.
export { DiscoveryError, type DiscoveryErrorCode } from './errors.ts';

// validation and domain model
export { validateAddress, validateAuthorization, formatIssue, type ValidationIssue } from './validate/validate.ts';
export { toWorkload, toService, toGatewayAddress, type ConvertOptions } from './convert.ts';
export type * from './model.ts';
export { serviceKey, workloadIdentity } from './model.ts';

// store
export { DiscoveryStore, type AddressLookup } from './store/store.ts';
export type { StoreUpdate, StoreChange, StoreListener, Changes } from './store/types.ts';
export type { StoreSnapshot, PolicySnapshot } from './store/snapshot.ts';

// routing
export { routeOutbound, pickServiceWaypoint, type OutboundRequest } from './routing/outbound.ts';
export { routeInbound, type InboundRequest } from './routing/inbound.ts';
export { selectEndpoint, localityRank, type SelectedEndpoint, type SelectOptions } from './routing/endpoints.ts';
export { resolveGateway, type ResolvedGateway } from './routing/gateway.ts';
export {
  DEFAULT_ILLEGAL_PORTS,
  HBONE_PORT,
  type Dial,
  type SocketTarget,
  type OutboundDecision,
  type InboundDecision,
  type RouteOptions,
} from './routing/types.ts';

// xDS: the handlers that feed the store, and the Istio resources a server serves
export { storeHandlers, addressHandler, authorizationHandler, convertAuthorization } from './xds/store-handlers.ts';
export {
  addressResource,
  authorizationResource,
  addressResourceName,
  authorizationResourceName,
} from './xds/resources.ts';

// static config
export { parseLocalConfig, loadLocalConfigFile, applyLocalConfig, type LocalConfig } from './static/local-config.ts';
