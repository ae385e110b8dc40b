// @ambient-ts/discovery — Istio workload discovery: protobuf codecs, delta xDS client and server, static config, indexed store, routing decisions.
export { DiscoveryError, type DiscoveryErrorCode } from './errors.ts';

// codecs
export {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  SERVICE_TYPE_URL,
  WORKLOAD_TYPE_URL,
  TYPE_URL_PREFIX,
} from './codec/registry.ts';
export {
  decodeResource,
  encodeResource,
  toAny,
  addressResourceName,
  authorizationResourceName,
  type ResourceShapes,
} from './codec/resource.ts';
export type * from './xds-types.ts';

// validation and domain model
export { validateAddress, validateAuthorization, formatIssue, type ValidationIssue } from './validate/validate.ts';
export { toWorkload, toService, toGatewayAddress, type ConvertOptions } from './convert.ts';
export type * from './model.ts';
export { serviceKey, policyKey, workloadIdentity } from './model.ts';

// store
export { DiscoveryStore, type AddressLookup } from './store/store.ts';
export type { StoreUpdate, StoreChange, StoreListener, Changes } from './store/types.ts';
export type { StoreSnapshot } from './store/snapshot.ts';

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

// xDS transport
export type { XdsNode, XdsResource, DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './xds/messages.ts';
export { DELTA_ADS_PATH } from './xds/messages.ts';
export { DeltaXdsClient, classify as classifyXdsTermination } from './xds/client.ts';
export type * from './xds/client-types.ts';
export { ztunnelNode, type ZtunnelNodeInput } from './xds/node.ts';
export { storeHandlers, addressHandler, authorizationHandler } from './xds/store-handlers.ts';
export {
  DeltaXdsServer,
  addDeltaAdsService,
  startXdsServer,
  type XdsServerEvent,
  type XdsServerOptions,
  type StartXdsServerOptions,
  type RunningXdsServer,
} from './xds/server.ts';
export type { XdsStreamInfo, TypeState as XdsTypeState } from './xds/server-stream.ts';
export {
  ResourceCache,
  addressResource,
  authorizationResource,
  contentVersion,
  type ResourceInput,
  type CacheUpdate,
} from './xds/cache.ts';

// static config
export { parseLocalConfig, loadLocalConfigFile, applyLocalConfig, type LocalConfig } from './static/local-config.ts';
