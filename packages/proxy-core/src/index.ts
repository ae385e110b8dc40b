// @ambient-ts/proxy-core — what ztunnel and the waypoint share on the data path: TCP connect with a
// timeout, connection tracking with typed close reasons (from which flags and access-log errors are
// derived), Istio's workload labels for metrics, and the operator surface (logs, metrics, readiness and
// their three servers).
export { connectTcp, DEFAULT_CONNECT_TIMEOUT_MS, type ConnectTcpOptions } from './connect.ts';
export {
  closeReport,
  notCarried,
  spliceCloseReason,
  type CloseKind,
  type CloseReason,
  type CloseReport,
  type ConnectionEnd,
} from './close-reason.ts';
export { ConnectionTracker, carry, type CarryOptions, type Closer, type Tracked } from './tracker.ts';
export { serviceLabels, workloadLabels, workloadTrafficLabels, type WorkloadTrafficInput } from './labels.ts';
export { OperatorSurface, type OperatorAddresses, type OperatorSurfaceOptions } from './operator-surface.ts';
