// The Node a waypoint sends on xDS: Envoy's `router~<ip>~<pod>.<ns>~<ns>.svc.<domain>` id (what istiod
// sees from its own waypoints) and the metadata istiod reads from a proxy.
import type { XdsNode } from '@ambient-ts/istio-api';
import type { Config } from '../config.ts';

export function waypointNode(config: Config, version: string): XdsNode {
  const { self } = config;
  return {
    id: `router~${self.instanceIp}~${self.podName}.${self.podNamespace}~${self.podNamespace}.svc.${config.clusterDomain}`,
    metadata: {
      NAME: self.podName,
      NAMESPACE: self.podNamespace,
      INSTANCE_IPS: self.instanceIp,
      CLUSTER_ID: config.clusterId,
      SERVICE_ACCOUNT: self.serviceAccount,
      WORKLOAD_NAME: self.gatewayName,
      NODE_NAME: self.nodeName ?? '',
      ISTIO_VERSION: version,
      ...(config.network ? { NETWORK: config.network } : {}),
      ...config.proxyMetadata,
    },
  };
}
