// Public codec entry points: protobuf bytes <-> proto3 JSON for every message in protos/, by type URL
// (`type.googleapis.com/istio.workload.Address`) or by full name (`istio.v1.auth.IstioCertificateRequest`).
import type protobuf from 'protobufjs';
import { IstioApiError, errorMessage } from '../errors.ts';
import type { Messages } from '../generated/schema.ts';
import { messageToJson } from './proto-json.ts';
import { jsonToMessage } from './proto-json-parse.ts';
import { TYPE_URL_PREFIX, lookupMessageType, typeForUrl } from './registry.ts';

/** A google.protobuf.Any whose payload is still bytes (how xDS carries resources). */
export interface RawAny {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** Every message full name this schema has. */
export type MessageName = keyof Messages;
/** `type.googleapis.com/<full name>` of every message. */
export type TypeUrl = `${typeof TYPE_URL_PREFIX}${MessageName}`;
/** The proto3 JSON shape each type URL decodes to. */
export type ResourceShapes = { [N in MessageName as `${typeof TYPE_URL_PREFIX}${N}`]: Messages[N] };

function requireType(typeUrl: string): protobuf.Type {
  const type = typeForUrl(typeUrl);
  if (!type) {
    throw new IstioApiError(
      'CODEC_UNKNOWN_TYPE',
      `no schema for type URL "${typeUrl}"; this package knows the messages of istio.workload, istio.workload.zds, istio.security, istio.v1.auth and envoy.service.discovery.v3`,
    );
  }
  return type;
}

function decodeWith(type: protobuf.Type, label: string, bytes: Uint8Array): unknown {
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    throw new IstioApiError('CODEC_DECODE_FAILED', `cannot decode ${label}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return messageToJson(type, message as unknown as Record<string, unknown>);
}

/**
 * Decode protobuf bytes of `typeUrl` into the proto3 JSON mapping (lowerCamelCase names, enums by name,
 * bytes base64, 64-bit integers as strings, default values omitted). Throws IstioApiError CODEC_*.
 */
export function decodeResource<U extends keyof ResourceShapes>(typeUrl: U, bytes: Uint8Array): ResourceShapes[U];
export function decodeResource(typeUrl: string, bytes: Uint8Array): Record<string, unknown>;
export function decodeResource(typeUrl: string, bytes: Uint8Array): unknown {
  return decodeWith(requireType(typeUrl), typeUrl, bytes);
}

/** Encode a proto3 JSON object of `typeUrl` into protobuf bytes (defaults omitted, fields in number order). */
export function encodeResource<U extends keyof ResourceShapes>(typeUrl: U, object: ResourceShapes[U]): Uint8Array;
export function encodeResource(typeUrl: string, object: unknown): Uint8Array;
export function encodeResource(typeUrl: string, object: unknown): Uint8Array {
  const type = requireType(typeUrl);
  return type.encode(jsonToMessage(type, object, type.name)).finish();
}

/** decodeResource by full message name. */
export function decodeMessage<N extends MessageName>(name: N, bytes: Uint8Array): Messages[N] {
  return decodeResource(`${TYPE_URL_PREFIX}${name}`, bytes) as Messages[N];
}

/** encodeResource by full message name. */
export function encodeMessage<N extends MessageName>(name: N, object: Messages[N]): Uint8Array {
  return encodeResource(`${TYPE_URL_PREFIX}${name}`, object);
}

/** Wrap a proto3 JSON resource as a google.protobuf.Any. */
export function toAny<U extends keyof ResourceShapes>(typeUrl: U, object: ResourceShapes[U]): RawAny;
export function toAny(typeUrl: string, object: unknown): RawAny;
export function toAny(typeUrl: string, object: unknown): RawAny {
  return { typeUrl, value: encodeResource(typeUrl, object) };
}

/** True when this schema has the message (by full name). */
export function hasMessage(name: string): name is MessageName {
  return lookupMessageType(name) !== undefined;
}
