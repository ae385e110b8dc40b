// The waypoint Gateway objects (gatewayClassName istio-waypoint): what the waypoint needs from them is
// its GatewayClass (for GatewayClass-targeted policies) and `istio.io/waypoint-for`.
import { isRecord, Problems, Reader, type JsonRecord } from './reader.ts';

export type TrafficType = 'service' | 'workload' | 'all' | 'none';

export interface WaypointGateway {
  readonly kind: 'Gateway';
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly gatewayClassName: string;
  readonly trafficType: TrafficType;
}

export function parseGateway(
  input: unknown,
  fallback: { name: string; namespace: string },
): { gateway?: WaypointGateway; errors: readonly string[] } {
  const problems = new Problems();
  const r = new Reader(problems);
  const raw: JsonRecord = isRecord(input) ? input : {};
  const metadata = r.record(raw['metadata'], ['metadata']) ?? {};
  const name = r.string(metadata['name'], ['metadata', 'name'], { nonEmpty: true }) ?? fallback.name;
  const namespace =
    r.string(metadata['namespace'], ['metadata', 'namespace'], { nonEmpty: true }) ?? fallback.namespace;
  const labels = r.record(metadata['labels'], ['metadata', 'labels']) ?? {};
  const spec = r.record(raw['spec'], ['spec']) ?? {};
  const gatewayClassName = r.string(spec['gatewayClassName'], ['spec', 'gatewayClassName'], {
    required: true,
    nonEmpty: true,
  });
  const forLabel = labels['istio.io/waypoint-for'] ?? 'service';
  if (!['service', 'workload', 'all', 'none'].includes(forLabel as string)) {
    problems.error(
      ['metadata', 'labels', 'istio.io/waypoint-for'],
      `must be service, workload, all or none, found ${JSON.stringify(forLabel)}`,
    );
  }
  if (problems.errors.length > 0 || gatewayClassName === undefined) return { errors: problems.errors };
  return {
    gateway: {
      kind: 'Gateway',
      key: `${namespace}/${name}`,
      name,
      namespace,
      gatewayClassName,
      trafficType: forLabel as TrafficType,
    },
    errors: [],
  };
}
