// @ambient-ts/xds — the delta-xDS protocol (ADS over grpc-js): a client with per-resource ACK/NACK, reconnect
// and on-demand subscriptions; a server with a resource cache, nonces and ACK/NACK tracking. Generic over
// type URLs; the messages and codecs come from @ambient-ts/istio-api.
export { XdsError, type XdsErrorCode } from './errors.ts';

// client
export { DeltaXdsClient, classify as classifyXdsTermination } from './client.ts';
export type * from './client-types.ts';
export {
  resourceHandler,
  type ResourceHandler,
  type ResourceOutcome,
  type ConvertedResource,
} from './resource-handler.ts';
export { ztunnelNode, type ZtunnelNodeInput } from './node.ts';

// server
export {
  DeltaXdsServer,
  addDeltaAdsService,
  startXdsServer,
  type XdsServerEvent,
  type XdsServerOptions,
  type StartXdsServerOptions,
  type RunningXdsServer,
} from './server.ts';
export type { XdsStreamInfo, TypeState as XdsTypeState } from './server-stream.ts';
export { ResourceCache, contentVersion, type ResourceInput, type CacheUpdate, type CacheListener } from './cache.ts';
export { deltaAdsDefinition } from './service.ts';
