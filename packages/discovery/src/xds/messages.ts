// Delta xDS messages as plain TypeScript values, and their protobuf (de)serialisation for grpc-js.
import { lookupMessageType } from '../codec/registry.ts';
import { messageToJson, type JsonObject } from '../codec/proto-json.ts';
import { structFromJson } from '../codec/proto-json-parse.ts';
import type { XdsAny } from '../xds-types.ts';

export interface XdsNode {
  readonly id: string;
  readonly cluster?: string;
  /** google.protobuf.Struct as JSON (ztunnel sends string values) */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface XdsResource {
  readonly name: string;
  readonly version: string;
  readonly resource?: XdsAny;
  readonly aliases?: readonly string[];
}

export interface DeltaDiscoveryRequest {
  readonly node?: XdsNode;
  readonly typeUrl: string;
  readonly resourceNamesSubscribe: readonly string[];
  readonly resourceNamesUnsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly errorDetail?: { readonly code: number; readonly message: string };
}

export interface DeltaDiscoveryResponse {
  readonly systemVersionInfo: string;
  readonly resources: readonly XdsResource[];
  readonly typeUrl: string;
  readonly nonce: string;
  readonly removedResources: readonly string[];
}

const RequestType = lookupMessageType('envoy.service.discovery.v3.DeltaDiscoveryRequest')!;
const ResponseType = lookupMessageType('envoy.service.discovery.v3.DeltaDiscoveryResponse')!;
const StructType = lookupMessageType('google.protobuf.Struct')!;

type Msg = Record<string, unknown>;

function nodeToProto(node: XdsNode): Msg {
  return {
    id: node.id,
    ...(node.cluster ? { cluster: node.cluster } : {}),
    ...(node.metadata ? { metadata: structFromJson(node.metadata as Msg) } : {}),
  };
}

export function encodeRequest(request: DeltaDiscoveryRequest): Buffer {
  const message: Msg = {
    typeUrl: request.typeUrl,
    resourceNamesSubscribe: request.resourceNamesSubscribe,
    resourceNamesUnsubscribe: request.resourceNamesUnsubscribe,
    initialResourceVersions: request.initialResourceVersions,
  };
  if (request.node) message['node'] = nodeToProto(request.node);
  if (request.responseNonce) message['responseNonce'] = request.responseNonce;
  if (request.errorDetail)
    message['errorDetail'] = { code: request.errorDetail.code, message: request.errorDetail.message };
  return Buffer.from(RequestType.encode(message).finish());
}

export function decodeRequest(bytes: Buffer): DeltaDiscoveryRequest {
  const m = RequestType.decode(bytes) as unknown as Msg;
  const node = m['node'] as Msg | null;
  const error = m['errorDetail'] as Msg | null;
  return {
    ...(node
      ? {
          node: {
            id: String(node['id'] ?? ''),
            ...(node['cluster'] ? { cluster: String(node['cluster']) } : {}),
            ...(node['metadata'] ? { metadata: messageToJson(StructType, node['metadata'] as Msg) as JsonObject } : {}),
          },
        }
      : {}),
    typeUrl: String(m['typeUrl'] ?? ''),
    resourceNamesSubscribe: [...((m['resourceNamesSubscribe'] as string[]) ?? [])],
    resourceNamesUnsubscribe: [...((m['resourceNamesUnsubscribe'] as string[]) ?? [])],
    initialResourceVersions: { ...((m['initialResourceVersions'] as Record<string, string>) ?? {}) },
    responseNonce: String(m['responseNonce'] ?? ''),
    ...(error ? { errorDetail: { code: Number(error['code'] ?? 0), message: String(error['message'] ?? '') } } : {}),
  };
}

export function encodeResponse(response: DeltaDiscoveryResponse): Buffer {
  return Buffer.from(
    ResponseType.encode({
      systemVersionInfo: response.systemVersionInfo,
      typeUrl: response.typeUrl,
      nonce: response.nonce,
      removedResources: response.removedResources,
      resources: response.resources.map((r) => ({
        name: r.name,
        version: r.version,
        aliases: r.aliases ?? [],
        ...(r.resource ? { resource: { type_url: r.resource.typeUrl, value: r.resource.value } } : {}),
      })),
    }).finish(),
  );
}

export function decodeResponse(bytes: Buffer): DeltaDiscoveryResponse {
  const m = ResponseType.decode(bytes) as unknown as Msg;
  return {
    systemVersionInfo: String(m['systemVersionInfo'] ?? ''),
    typeUrl: String(m['typeUrl'] ?? ''),
    nonce: String(m['nonce'] ?? ''),
    removedResources: [...((m['removedResources'] as string[]) ?? [])],
    resources: ((m['resources'] as Msg[]) ?? []).map((r) => {
      const any = r['resource'] as Msg | null;
      return {
        name: String(r['name'] ?? ''),
        version: String(r['version'] ?? ''),
        aliases: [...((r['aliases'] as string[]) ?? [])],
        ...(any ? { resource: { typeUrl: String(any['type_url'] ?? ''), value: any['value'] as Uint8Array } } : {}),
      };
    }),
  };
}

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const DELTA_ADS_PATH = `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`;

export const deltaAdsDefinition = {
  DeltaAggregatedResources: {
    path: DELTA_ADS_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
    originalName: 'deltaAggregatedResources',
  },
} as const;
