// Short names for the istio.workload / istio.security enums the converters and validators read; the values
// come from @ambient-ts/istio-api's generated schema.
import { enumName as schemaEnumName, type EnumFullName } from '@ambient-ts/istio-api';

const ENUMS = {
  tunnelProtocol: 'istio.workload.TunnelProtocol',
  networkMode: 'istio.workload.NetworkMode',
  workloadStatus: 'istio.workload.WorkloadStatus',
  workloadType: 'istio.workload.WorkloadType',
  appTunnelProtocol: 'istio.workload.ApplicationTunnel.Protocol',
  ipFamilies: 'istio.workload.IPFamilies',
  lbScope: 'istio.workload.LoadBalancing.Scope',
  lbMode: 'istio.workload.LoadBalancing.Mode',
  lbHealthPolicy: 'istio.workload.LoadBalancing.HealthPolicy',
  visibility: 'istio.workload.Service.Visibility',
} as const satisfies Record<string, EnumFullName>;

export type EnumName = keyof typeof ENUMS;

/** The value's name, the default name when absent, or undefined when the value is unknown. */
export function enumName(kind: EnumName, value: string | number | undefined): string | undefined {
  return schemaEnumName(ENUMS[kind], value);
}
