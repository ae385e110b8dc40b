// The istio.v1.auth wire messages (protobufjs, from protos/istio/v1/auth/ca.proto) and the grpc-js
// service definition built on them. Struct metadata is converted to and from plain JSON values here,
// so the rest of the package never sees protobuf shapes.
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { descriptor } from './generated/protos.ts';

const root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);
const requestType = root.lookupType('istio.v1.auth.IstioCertificateRequest');
const responseType = root.lookupType('istio.v1.auth.IstioCertificateResponse');

export const createCertificatePath = '/istio.v1.auth.IstioCertificateService/CreateCertificate';
/** The `metadata` key that asks for another identity (shared/node mode). */
export const impersonatedIdentityKey = 'ImpersonatedIdentity';
/** Trailer in which our CA server names the stable code of a refusal (e.g. DENIED_NOT_ON_NODE). */
export const errorCodeTrailer = 'x-ambient-ts-error';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CaRequest {
  csr: string;
  /** Requested lifetime in seconds (0 = CA default). */
  validityDuration: number;
  metadata: Record<string, JsonValue>;
}

export interface CaResponse {
  certChain: string[];
}

/** A request body that could not be decoded; the service answers INVALID_ARGUMENT. */
export interface MalformedRequest {
  malformed: string;
}

interface ProtoValue {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, ProtoValue> };
  listValue?: { values?: ProtoValue[] };
}

function toValue(value: JsonValue): ProtoValue {
  if (value === null) return { nullValue: 0 };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  return { structValue: toStruct(value) };
}

function toStruct(object: Record<string, JsonValue>): { fields: Record<string, ProtoValue> } {
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, toValue(value)])) };
}

function fromValue(value: ProtoValue): JsonValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return value.numberValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.structValue !== undefined) return fromStruct(value.structValue);
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(fromValue);
  return null;
}

function fromStruct(struct: { fields?: Record<string, ProtoValue> } | undefined): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, fromValue(value)]));
}

export function encodeRequest(request: CaRequest): Buffer {
  const message = requestType.fromObject({
    csr: request.csr,
    validityDuration: request.validityDuration,
    ...(Object.keys(request.metadata).length > 0 ? { metadata: toStruct(request.metadata) } : {}),
  });
  return Buffer.from(requestType.encode(message).finish());
}

export function decodeRequest(bytes: Buffer): CaRequest | MalformedRequest {
  try {
    const message = requestType.toObject(requestType.decode(bytes), { longs: Number, defaults: true }) as {
      csr: string;
      validityDuration: number;
      metadata?: { fields?: Record<string, ProtoValue> };
    };
    return { csr: message.csr, validityDuration: message.validityDuration, metadata: fromStruct(message.metadata) };
  } catch (error) {
    return { malformed: (error as Error).message };
  }
}

export function encodeResponse(response: CaResponse): Buffer {
  return Buffer.from(responseType.encode(responseType.fromObject(response)).finish());
}

export function decodeResponse(bytes: Buffer): CaResponse {
  const message = responseType.toObject(responseType.decode(bytes), { defaults: true }) as { certChain: string[] };
  return { certChain: message.certChain };
}

/** grpc-js definition of IstioCertificateService, usable by both servers and clients. */
export const caServiceDefinition: ServiceDefinition = {
  CreateCertificate: {
    path: createCertificatePath,
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: CaRequest) => encodeRequest(value),
    requestDeserialize: (bytes: Buffer) => decodeRequest(bytes),
    responseSerialize: (value: CaResponse) => encodeResponse(value),
    responseDeserialize: (bytes: Buffer) => decodeResponse(bytes),
    originalName: 'createCertificate',
  },
};
