// ZDS (istio.workload.zds, facts §9.1): the messages between Istio's CNI node agent and ztunnel in in-pod mode,
// one serialized message per SOCK_SEQPACKET packet (no length prefix). Typed binary codecs over the generic
// ones; what a message means (and which fds must ride along) is the receiver's business.
import type * as zds from '../generated/zds.ts';
import { decodeMessage, encodeMessage } from './resource.ts';

/** ztunnel's receive buffer: a longer packet arrives truncated and is a protocol error. */
export const ZDS_MAX_MESSAGE_BYTES = 1024;

/** ztunnel → agent, first on every connection. */
export function encodeZdsHello(hello: zds.ZdsHello): Uint8Array {
  return encodeMessage('istio.workload.zds.ZdsHello', hello);
}
export function decodeZdsHello(bytes: Uint8Array): zds.ZdsHello {
  return decodeMessage('istio.workload.zds.ZdsHello', bytes);
}

/** agent → ztunnel: oneof payload { 1 add, 2 del, 3 snapshot_sent, 5 keep }. */
export function encodeWorkloadRequest(request: zds.WorkloadRequest): Uint8Array {
  return encodeMessage('istio.workload.zds.WorkloadRequest', request);
}
/** Throws IstioApiError CODEC_DECODE_FAILED on bytes that are not a WorkloadRequest. */
export function decodeWorkloadRequest(bytes: Uint8Array): zds.WorkloadRequest {
  return decodeMessage('istio.workload.zds.WorkloadRequest', bytes);
}

/** ztunnel → agent, one per request: `{ ack: {} }` is an ACK, `{ ack: { error } }` a NACK. */
export function encodeWorkloadResponse(response: zds.WorkloadResponse): Uint8Array {
  return encodeMessage('istio.workload.zds.WorkloadResponse', response);
}
export function decodeWorkloadResponse(bytes: Uint8Array): zds.WorkloadResponse {
  return decodeMessage('istio.workload.zds.WorkloadResponse', bytes);
}
