// Resource validation, separate from decoding: every rule that makes Istio's ztunnel NACK a resource
// (facts §12.21) plus a few of ours (marked OURS) that protect the store's keys.
import { base64ToBytes, type security, type workload } from '@ambient-ts/istio-api';
import { fromXdsAuthorization } from '@ambient-ts/policy';
import { enumName, type EnumName } from './enums.ts';

/** One reason a resource is rejected; `field` is a path inside the resource. */
export interface ValidationIssue {
  readonly resource: string;
  readonly field: string;
  readonly reason: string;
}

export function formatIssue(issue: ValidationIssue): string {
  return `${issue.resource}: ${issue.field}: ${issue.reason}`;
}

type Report = (field: string, reason: string) => void;

function checkEnum(report: Report, field: string, kind: EnumName, value: string | number | undefined): void {
  if (enumName(kind, value) === undefined) report(field, `unknown enum value ${JSON.stringify(value)}`);
}

function checkIpBytes(report: Report, field: string, base64: string | undefined): Uint8Array | undefined {
  const bytes = base64ToBytes(base64 ?? '');
  if (bytes.length !== 4 && bytes.length !== 16) {
    report(field, `invalid address length ${bytes.length} (want 4 or 16 bytes)`);
    return undefined;
  }
  return bytes;
}

function checkNetworkAddress(report: Report, field: string, address: workload.NetworkAddress): void {
  const bytes = checkIpBytes(report, `${field}.address`, address.address);
  if (bytes && address.length !== undefined && address.length > bytes.length * 8) {
    report(`${field}.length`, `prefix length ${address.length} exceeds ${bytes.length * 8} (OURS)`);
  }
}

function checkGateway(report: Report, field: string, gateway: workload.GatewayAddress): void {
  if (gateway.address) checkNetworkAddress(report, `${field}.address`, gateway.address);
  else if (gateway.hostname) {
    if (!gateway.hostname.hostname) report(`${field}.hostname.hostname`, 'empty hostname (OURS)');
  } else report(field, 'gateway address has no destination (neither hostname nor address)');
  if ((gateway.hboneMtlsPort ?? 0) > 65535) report(`${field}.hboneMtlsPort`, 'port above 65535 (OURS)');
}

function checkPort(report: Report, field: string, port: number | undefined): void {
  if ((port ?? 0) > 65535) report(field, `port ${port} above 65535 (OURS)`);
}

export function validateWorkload(resource: string, workload: workload.Workload, report: Report): void {
  if (!workload.uid) report('workload.uid', 'missing uid, the resource key (OURS)');
  (workload.addresses ?? []).forEach((address, i) => checkIpBytes(report, `workload.addresses[${i}]`, address));
  checkEnum(report, 'workload.tunnelProtocol', 'tunnelProtocol', workload.tunnelProtocol);
  if (enumName('tunnelProtocol', workload.tunnelProtocol) === 'LEGACY_ISTIO_MTLS') {
    report('workload.tunnelProtocol', 'LEGACY_ISTIO_MTLS is not supported');
  }
  checkEnum(report, 'workload.networkMode', 'networkMode', workload.networkMode);
  checkEnum(report, 'workload.status', 'workloadStatus', workload.status);
  if (workload.waypoint) checkGateway(report, 'workload.waypoint', workload.waypoint);
  if (workload.networkGateway) checkGateway(report, 'workload.networkGateway', workload.networkGateway);
  if (workload.applicationTunnel) {
    checkEnum(report, 'workload.applicationTunnel.protocol', 'appTunnelProtocol', workload.applicationTunnel.protocol);
    checkPort(report, 'workload.applicationTunnel.port', workload.applicationTunnel.port);
  }
  for (const [key, list] of Object.entries(workload.services ?? {})) {
    if (!key.includes('/'))
      report(`workload.services[${JSON.stringify(key)}]`, 'service key is not namespace/hostname');
    (list.ports ?? []).forEach((port, i) => {
      checkPort(report, `workload.services[${JSON.stringify(key)}].ports[${i}].servicePort`, port.servicePort);
      checkPort(report, `workload.services[${JSON.stringify(key)}].ports[${i}].targetPort`, port.targetPort);
    });
  }
  void resource;
}

export function validateService(resource: string, service: workload.Service, report: Report): void {
  if (!service.hostname) report('service.hostname', 'missing hostname, part of the resource key (OURS)');
  (service.addresses ?? []).forEach((address, i) => checkNetworkAddress(report, `service.addresses[${i}]`, address));
  (service.ports ?? []).forEach((port, i) => {
    checkPort(report, `service.ports[${i}].servicePort`, port.servicePort);
    checkPort(report, `service.ports[${i}].targetPort`, port.targetPort);
  });
  if (service.waypoint) checkGateway(report, 'service.waypoint', service.waypoint);
  (service.weightedWaypoints ?? []).forEach((waypoint, i) => {
    if (waypoint.destination) checkGateway(report, `service.weightedWaypoints[${i}].destination`, waypoint.destination);
    else report(`service.weightedWaypoints[${i}].destination`, 'gateway address has no destination');
  });
  const lb = service.loadBalancing;
  if (lb) {
    (lb.routingPreference ?? []).forEach((scope, i) => {
      const name = enumName('lbScope', scope);
      if (name === undefined || name === 'UNSPECIFIED_SCOPE') {
        report(`service.loadBalancing.routingPreference[${i}]`, `invalid scope ${JSON.stringify(scope)}`);
      }
    });
    checkEnum(report, 'service.loadBalancing.mode', 'lbMode', lb.mode);
    checkEnum(report, 'service.loadBalancing.healthPolicy', 'lbHealthPolicy', lb.healthPolicy);
  }
  checkEnum(report, 'service.ipFamilies', 'ipFamilies', service.ipFamilies);
  // Visibility: unknown values are treated as PUBLIC, not rejected (as ztunnel).
  void resource;
}

/** Issues that make ztunnel reject this Address resource (empty = accept). */
export function validateAddress(resource: string, address: workload.Address): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report: Report = (field, reason) => issues.push({ resource, field, reason });
  if (address.workload && address.service) report('type', 'both workload and service are set');
  else if (address.workload) validateWorkload(resource, address.workload, report);
  else if (address.service) validateService(resource, address.service, report);
  else report('type', 'address has neither a workload nor a service');
  return issues;
}

/**
 * Issues that make us reject this Authorization resource (empty = accept): everything policy's converter
 * refuses (unknown enums, a missing name, malformed matches), with the field. Stricter than ztunnel, which
 * skips unparseable CIDRs inside matches; a rejected policy is enforced fail-closed (see store-handlers).
 */
export function validateAuthorization(resource: string, policy: security.Authorization): ValidationIssue[] {
  const result = fromXdsAuthorization(policy);
  if (result.ok) return [];
  return result.problems.map((problem) => ({ resource, field: problem.field, reason: problem.message }));
}
