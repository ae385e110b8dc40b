// apps/waypoint — the ambient mesh's L7 proxy: HBONE in, RequestAuthentication, AuthorizationPolicy and
// HTTPRoute (GAMMA), HBONE out, with Istio's HTTP metrics and an access log per request.
export { Waypoint, version, type WaypointOptions } from './waypoint.ts';
export {
  parseConfig,
  loadConfig,
  helpText,
  redactedConfig,
  waypointIdentity,
  gatewayNameFromPod,
  variables,
  type Config,
} from './config.ts';
export { WaypointError, type WaypointErrorCode } from './errors.ts';
export { L7_TYPE_URL } from './l7/l7-handler.ts';
export { L7Store, type L7Rejection, type L7Snapshot } from './l7/l7-store.ts';
export { loadL7Object, type L7Object, type LoadedL7 } from './l7/l7-object.ts';
export { parseLocalFile, type LocalFile } from './state/local-file.ts';
export { classifyPrefix, declaredProtocol, type Detected } from './protocol/sniff.ts';
export { dispatch, designatesSelf, type Dispatch, type WaypointSelf } from './routing/dispatch.ts';
