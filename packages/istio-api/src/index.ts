// @ambient-ts/istio-api — Istio's wire messages, generated once from protos/: proto3 JSON TypeScript types,
// the protobufjs descriptor, and the codecs (binary protobuf <-> proto3 JSON, delta xDS messages, ZDS).
export { IstioApiError, type IstioApiErrorCode } from './errors.ts';

// Generated types, one namespace per proto package (workload.Workload, security.Authorization, ...)
export type * as workload from './generated/workload.ts';
export type * as security from './generated/security.ts';
export type * as discovery from './generated/discovery.ts';
export type * as core from './generated/core.ts';
export type * as rpc from './generated/rpc.ts';
export type * as auth from './generated/auth.ts';
export type * as zds from './generated/zds.ts';
export type * as wkt from './codec/wkt-json.ts';
export type { JsonValue } from './codec/wkt-json.ts';
export type { Messages } from './generated/schema.ts';
export { enumValues, messageFields } from './generated/schema.ts';
export { descriptor } from './generated/descriptor.ts';
export { enumName, enumNames, type EnumFullName, type EnumNames } from './codec/enums.ts';

// Codecs
export {
  TYPE_URL_PREFIX,
  ADDRESS_TYPE_URL,
  WORKLOAD_TYPE_URL,
  SERVICE_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
} from './codec/registry.ts';
export {
  decodeResource,
  encodeResource,
  decodeMessage,
  encodeMessage,
  toAny,
  hasMessage,
  type RawAny,
  type MessageName,
  type TypeUrl,
  type ResourceShapes,
} from './codec/resource.ts';
export { base64ToBytes, bytesToBase64 } from './codec/base64.ts';

// Delta xDS messages (resources kept as bytes) and the Istio CA method
export {
  ADS_SERVICE_NAME,
  DELTA_ADS_PATH,
  encodeDeltaRequest,
  decodeDeltaRequest,
  encodeDeltaResponse,
  decodeDeltaResponse,
  type XdsNode,
  type XdsResource,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from './codec/delta.ts';
export { ISTIO_CA_SERVICE_NAME, CREATE_CERTIFICATE_PATH } from './codec/ca.ts';

// ZDS (CNI node agent <-> ztunnel, in-pod mode), one message per SOCK_SEQPACKET packet
export {
  ZDS_MAX_MESSAGE_BYTES,
  encodeZdsHello,
  decodeZdsHello,
  encodeWorkloadRequest,
  decodeWorkloadRequest,
  encodeWorkloadResponse,
  decodeWorkloadResponse,
} from './codec/zds.ts';
