// The Node a ztunnel sends on its first request of each type (facts §3.3).
import type { JsonValue, XdsNode } from '@ambient-ts/istio-api';

export interface ZtunnelNodeInput {
  /** INSTANCE_IP (default 1.1.1.1, as ztunnel) */
  readonly instanceIp?: string;
  readonly podName: string;
  readonly podNamespace: string;
  /** NODE_NAME */
  readonly nodeName?: string;
  /** proxy metadata (ProxyConfig proxyMetadata and ISTIO_META_* with the prefix stripped) */
  readonly metadata?: Readonly<Record<string, string>>;
  /** ISTIO_METAJSON_<K> values, already parsed */
  readonly metadataJson?: Readonly<Record<string, unknown>>;
}

/** id `ztunnel~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`; metadata NAME, NAMESPACE, INSTANCE_IPS, NODE_NAME, ... */
export function ztunnelNode(input: ZtunnelNodeInput): XdsNode {
  const ip = input.instanceIp || '1.1.1.1';
  return {
    id: `ztunnel~${ip}~${input.podName}.${input.podNamespace}~${input.podNamespace}.svc.cluster.local`,
    metadata: {
      NAME: input.podName,
      NAMESPACE: input.podNamespace,
      INSTANCE_IPS: input.instanceIp ?? '',
      NODE_NAME: input.nodeName ?? '',
      ...input.metadata,
      ...(input.metadataJson as Readonly<Record<string, JsonValue>> | undefined),
    },
  };
}
