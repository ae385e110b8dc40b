// The waypoint Gateway objects (gatewayClassName istio-waypoint): what the waypoint needs from them is
// its GatewayClass (for GatewayClass-targeted policies) and `istio.io/waypoint-for`.
import { isRecord, ObjectReader, problemText, type JsonRecord } from '@ambient-ts/routes';

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
  const r = new ObjectReader();
  const problems = r.problems;
  const raw: JsonRecord = isRecord(input) ? input : {};
  const { metadata, name, namespace } = r.metadata(raw, fallback);
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
  if (problems.hasErrors || gatewayClassName === undefined) {
    const errors = problems.for('Gateway', `${namespace}/${name}`).filter((p) => p.severity === 'error');
    return { errors: errors.map(problemText) };
  }
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
