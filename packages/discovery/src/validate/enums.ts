// Enum value names by number, mirroring the .proto files, so validation can tell unknown values.

export const ENUMS = {
  tunnelProtocol: ['NONE', 'HBONE', 'LEGACY_ISTIO_MTLS'],
  networkMode: ['STANDARD', 'HOST_NETWORK'],
  workloadStatus: ['HEALTHY', 'UNHEALTHY'],
  workloadType: ['DEPLOYMENT', 'CRONJOB', 'POD', 'JOB'],
  appTunnelProtocol: ['NONE', 'PROXY'],
  ipFamilies: ['AUTOMATIC', 'IPV4_ONLY', 'IPV6_ONLY', 'DUAL'],
  lbScope: ['UNSPECIFIED_SCOPE', 'REGION', 'ZONE', 'SUBZONE', 'NODE', 'CLUSTER', 'NETWORK'],
  lbMode: ['UNSPECIFIED_MODE', 'STRICT', 'FAILOVER', 'PASSTHROUGH'],
  lbHealthPolicy: ['ONLY_HEALTHY', 'ALLOW_ALL'],
  visibility: ['PUBLIC', 'NAMESPACE'],
  authzScope: ['GLOBAL', 'NAMESPACE', 'WORKLOAD_SELECTOR'],
  authzAction: ['ALLOW', 'DENY'],
} as const;

export type EnumName = keyof typeof ENUMS;

/** The value's name, the default name when absent, or undefined when the value is unknown. */
export function enumName(kind: EnumName, value: string | number | undefined): string | undefined {
  const names: readonly string[] = ENUMS[kind];
  if (value === undefined) return names[0];
  if (typeof value === 'number') return names[value];
  return names.includes(value) ? value : undefined;
}
