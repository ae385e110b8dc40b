// Public codec entry points: resource bytes <-> proto3 JSON for Istio's discovery types, plus the
// xDS resource names ztunnel derives from them.
import type protobuf from 'protobufjs';
import { DiscoveryError, errorMessage } from '../errors.ts';
import type { XdsAddress, XdsAny, XdsAuthorization, XdsService, XdsWorkload } from '../xds-types.ts';
import { messageToJson } from './proto-json.ts';
import { jsonToMessage } from './proto-json-parse.ts';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  SERVICE_TYPE_URL,
  WORKLOAD_TYPE_URL,
  typeForUrl,
} from './registry.ts';

/** The proto3 JSON shape each supported type URL decodes to. */
export interface ResourceShapes {
  [ADDRESS_TYPE_URL]: XdsAddress;
  [WORKLOAD_TYPE_URL]: XdsWorkload;
  [SERVICE_TYPE_URL]: XdsService;
  [AUTHORIZATION_TYPE_URL]: XdsAuthorization;
}

function requireType(typeUrl: string): protobuf.Type {
  const type = typeForUrl(typeUrl);
  if (!type) {
    throw new DiscoveryError(
      'CODEC_UNKNOWN_TYPE',
      `no schema for type URL "${typeUrl}"; supported: ${ADDRESS_TYPE_URL}, ${WORKLOAD_TYPE_URL}, ${SERVICE_TYPE_URL}, ${AUTHORIZATION_TYPE_URL} (and the other messages of this package)`,
    );
  }
  return type;
}

/**
 * Decode protobuf bytes of `typeUrl` into the proto3 JSON mapping (lowerCamelCase names, enums by name,
 * bytes base64, 64-bit integers as strings, default values omitted).
 */
export function decodeResource<U extends keyof ResourceShapes>(typeUrl: U, bytes: Uint8Array): ResourceShapes[U];
export function decodeResource(typeUrl: string, bytes: Uint8Array): Record<string, unknown>;
export function decodeResource(typeUrl: string, bytes: Uint8Array): unknown {
  const type = requireType(typeUrl);
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    throw new DiscoveryError('CODEC_DECODE_FAILED', `cannot decode ${typeUrl}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return messageToJson(type, message as unknown as Record<string, unknown>);
}

/** Encode a proto3 JSON object of `typeUrl` into protobuf bytes (defaults omitted, fields in number order). */
export function encodeResource<U extends keyof ResourceShapes>(typeUrl: U, object: ResourceShapes[U]): Uint8Array;
export function encodeResource(typeUrl: string, object: unknown): Uint8Array;
export function encodeResource(typeUrl: string, object: unknown): Uint8Array {
  const type = requireType(typeUrl);
  return type.encode(jsonToMessage(type, object, type.name)).finish();
}

/** Wrap a proto3 JSON resource as a google.protobuf.Any. */
export function toAny(typeUrl: string, object: unknown): XdsAny {
  return { typeUrl, value: encodeResource(typeUrl, object) };
}

/** xDS name ztunnel uses: Workload uid, Service `namespace/hostname`, Authorization `namespace/name`. */
export function addressResourceName(address: XdsAddress): string | undefined {
  if (address.workload) return address.workload.uid ?? '';
  if (address.service) return `${address.service.namespace ?? ''}/${address.service.hostname ?? ''}`;
  return undefined;
}

export function authorizationResourceName(policy: XdsAuthorization): string {
  return `${policy.namespace ?? ''}/${policy.name ?? ''}`;
}
