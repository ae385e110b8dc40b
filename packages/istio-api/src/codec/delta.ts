// Delta xDS messages as plain TypeScript values (resource payloads kept as bytes until a handler decodes
// them), and their protobuf (de)serialisation for grpc-js.
import type * as core from '../generated/core.ts';
import type * as discovery from '../generated/discovery.ts';
import type * as rpc from '../generated/rpc.ts';
import { messageToJson, type JsonObject } from './proto-json.ts';
import { structFromJson } from './proto-json-parse.ts';
import { lookupMessageType } from './registry.ts';
import type { RawAny } from './resource.ts';

/** The fields of a decoded message that are always present, arrays read-only. */
type Decoded<T> = { readonly [K in keyof T]-?: NonNullable<T[K]> extends (infer E)[] ? readonly E[] : T[K] };

/** envoy.config.core.v3.Node as xDS clients send it (metadata as a JSON object). */
export type XdsNode = Readonly<Pick<core.Node, 'cluster' | 'metadata'>> & { readonly id: string };

/** envoy.service.discovery.v3.Resource with its payload still bytes. */
export type XdsResource = Decoded<Pick<discovery.Resource, 'name' | 'version'>> & {
  readonly resource?: RawAny;
  readonly aliases?: readonly string[];
};

/** envoy.service.discovery.v3.DeltaDiscoveryRequest (error_detail: the NACK, a google.rpc.Status). */
export type DeltaDiscoveryRequest = Decoded<
  Pick<
    discovery.DeltaDiscoveryRequest,
    'typeUrl' | 'resourceNamesSubscribe' | 'resourceNamesUnsubscribe' | 'initialResourceVersions' | 'responseNonce'
  >
> & {
  readonly node?: XdsNode;
  readonly errorDetail?: Decoded<Pick<rpc.Status, 'code' | 'message'>>;
};

/** envoy.service.discovery.v3.DeltaDiscoveryResponse with resource payloads still bytes. */
export type DeltaDiscoveryResponse = Decoded<
  Pick<discovery.DeltaDiscoveryResponse, 'systemVersionInfo' | 'typeUrl' | 'nonce' | 'removedResources'>
> & { readonly resources: readonly XdsResource[] };

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

export function encodeDeltaRequest(request: DeltaDiscoveryRequest): Buffer {
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

export function decodeDeltaRequest(bytes: Buffer): DeltaDiscoveryRequest {
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

export function encodeDeltaResponse(response: DeltaDiscoveryResponse): Buffer {
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

export function decodeDeltaResponse(bytes: Buffer): DeltaDiscoveryResponse {
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
/** gRPC path of the delta ADS stream. */
export const DELTA_ADS_PATH = `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`;
