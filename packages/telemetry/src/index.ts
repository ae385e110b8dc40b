// @ambient-ts/telemetry — Istio's standard metrics and labels, ztunnel-shaped access logs, and the
// admin / metrics / readiness HTTP servers of an ambient proxy.
export {
  trafficLabels,
  trafficLabelNames,
  type TrafficLabels,
  type TrafficLabelName,
  type TrafficLabelInput,
  type LabelWorkload,
  type LabelService,
  type ResponseFlags,
} from './traffic-labels.ts';
export { ProxyMetrics, type ProxyMetricsOptions } from './proxy-metrics.ts';
export { encodeBody, chooseEncoding, type EncodedBody } from './exposition.ts';
export { Logging, parseLevelSpec, logLevels, type LogLevel, type LoggingOptions } from './logging.ts';
export { AccessLog, formatDuration, type AccessLogFields } from './access-log.ts';
export { Readiness } from './readiness.ts';
export {
  closeOperatorServers,
  createAdminServer,
  createMetricsServer,
  createOperatorServers,
  createReadinessServer,
  type AdminHandlers,
  type OperatorServers,
} from './http-servers.ts';
