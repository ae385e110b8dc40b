// The istio.v1.auth CA API on the wire: the request and response messages (encoded by
// @ambient-ts/istio-api, which owns the generated schema) and the grpc-js service definition built on
// them. Struct metadata is plain JSON, so the rest of the package never sees protobuf shapes.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { CREATE_CERTIFICATE_PATH, decodeMessage, encodeMessage, type JsonValue } from '@ambient-ts/istio-api';

const requestName = 'istio.v1.auth.IstioCertificateRequest';
const responseName = 'istio.v1.auth.IstioCertificateResponse';

export const createCertificatePath = CREATE_CERTIFICATE_PATH;
/** The `metadata` key that asks for another identity (shared/node mode). */
export const impersonatedIdentityKey = 'ImpersonatedIdentity';
/** Trailer in which our CA server names the stable code of a refusal (e.g. DENIED_NOT_ON_NODE). */
export const errorCodeTrailer = 'x-ambient-ts-error';

export type { JsonValue };

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

export function encodeRequest(request: CaRequest): Buffer {
  const message = {
    csr: request.csr,
    validityDuration: request.validityDuration,
    ...(Object.keys(request.metadata).length > 0 ? { metadata: request.metadata } : {}),
  };
  return Buffer.from(encodeMessage(requestName, message));
}

export function decodeRequest(bytes: Buffer): CaRequest | MalformedRequest {
  try {
    const message = decodeMessage(requestName, bytes);
    return {
      csr: message.csr ?? '',
      validityDuration: Number(message.validityDuration ?? 0),
      metadata: message.metadata ?? {},
    };
  } catch (error) {
    return { malformed: (error as Error).message };
  }
}

export function encodeResponse(response: CaResponse): Buffer {
  return Buffer.from(encodeMessage(responseName, { certChain: response.certChain }));
}

export function decodeResponse(bytes: Buffer): CaResponse {
  return { certChain: decodeMessage(responseName, bytes).certChain ?? [] };
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
