import { describe, expect, it } from 'vitest';
import { toService, toWorkload } from '../convert.ts';
import type { security, workload } from '@ambient-ts/istio-api';
import { formatIssue, validateAddress, validateAuthorization } from './validate.ts';

const ip = 'CgAAAQ==';
const gw = (extra: object) => ({ hboneMtlsPort: 15008, ...extra });

describe('validateAddress: what makes ztunnel NACK', () => {
  it.each<[string, workload.Address, string]>([
    [
      'bad address length',
      { workload: { uid: 'u', addresses: ['AQID'] } },
      'workload.addresses[0]: invalid address length 3 (want 4 or 16 bytes)',
    ],
    [
      'LEGACY_ISTIO_MTLS',
      { workload: { uid: 'u', tunnelProtocol: 'LEGACY_ISTIO_MTLS' } },
      'workload.tunnelProtocol: LEGACY_ISTIO_MTLS is not supported',
    ],
    [
      'unknown tunnel protocol',
      { workload: { uid: 'u', tunnelProtocol: 9 } },
      'workload.tunnelProtocol: unknown enum value 9',
    ],
    ['unknown network mode', { workload: { uid: 'u', networkMode: 5 } }, 'workload.networkMode: unknown enum value 5'],
    ['unknown status', { workload: { uid: 'u', status: 3 } }, 'workload.status: unknown enum value 3'],
    [
      'unknown app tunnel protocol',
      { workload: { uid: 'u', applicationTunnel: { protocol: 4 } } },
      'workload.applicationTunnel.protocol: unknown enum value 4',
    ],
    [
      'service key without /',
      { workload: { uid: 'u', services: { nohost: {} } } },
      'workload.services["nohost"]: service key is not namespace/hostname',
    ],
    [
      'waypoint without destination',
      { workload: { uid: 'u', waypoint: gw({}) } },
      'workload.waypoint: gateway address has no destination',
    ],
    [
      'gateway with bad IP',
      { workload: { uid: 'u', networkGateway: gw({ address: { address: 'AQ==' } }) } },
      'workload.networkGateway.address.address: invalid address length 1',
    ],
    ['missing uid', { workload: { name: 'x' } }, 'workload.uid: missing uid'],
    [
      'service VIP length',
      { service: { hostname: 'h', addresses: [{ address: 'AQIDBAU=' }] } },
      'service.addresses[0].address: invalid address length 5',
    ],
    [
      'service waypoint without destination',
      { service: { hostname: 'h', waypoint: gw({}) } },
      'service.waypoint: gateway address has no destination',
    ],
    [
      'unspecified LB scope',
      { service: { hostname: 'h', loadBalancing: { routingPreference: ['UNSPECIFIED_SCOPE'] } } },
      'service.loadBalancing.routingPreference[0]: invalid scope',
    ],
    [
      'unknown LB mode',
      { service: { hostname: 'h', loadBalancing: { mode: 8 } } },
      'service.loadBalancing.mode: unknown enum value 8',
    ],
    [
      'unknown health policy',
      { service: { hostname: 'h', loadBalancing: { healthPolicy: 8 } } },
      'service.loadBalancing.healthPolicy: unknown enum value 8',
    ],
    ['unknown IP families', { service: { hostname: 'h', ipFamilies: 9 } }, 'service.ipFamilies: unknown enum value 9'],
    [
      'weighted waypoint without destination',
      { service: { hostname: 'h', weightedWaypoints: [{ weight: 1 }] } },
      'service.weightedWaypoints[0].destination',
    ],
    ['neither workload nor service', {}, 'type: address has neither a workload nor a service'],
  ])('%s', (_label, address, expected) => {
    const issues = validateAddress('res', address);
    expect(issues.map(formatIssue).join('; ')).toContain(`res: ${expected}`);
  });

  it('accepts valid resources and unknown Visibility values (treated as PUBLIC)', () => {
    expect(
      validateAddress('w', {
        workload: { uid: 'u', addresses: [ip, 'AAAAAAAAAAAAAAAAAAAAAQ=='], tunnelProtocol: 'HBONE' },
      }),
    ).toEqual([]);
    expect(validateAddress('s', { service: { hostname: 'h', visibility: 7 } })).toEqual([]);
    expect(toService({ hostname: 'h', visibility: 7 }).visibility).toBe('Public');
  });

  it("validates Authorization through policy's converter, match contents included", () => {
    const bad: security.Authorization = { name: 'p', scope: 4, action: 2 };
    expect(validateAuthorization('ns/p', bad).map(formatIssue)).toEqual([
      'ns/p: scope: unknown enum value number 4 (expected one of GLOBAL, NAMESPACE, WORKLOAD_SELECTOR)',
    ]);
    expect(
      validateAuthorization('ns/p', {
        name: 'p',
        rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: 'AQ==' }] }] }] }],
      }).map(formatIssue),
    ).toEqual(['ns/p: rules[0].clauses[0].matches[0].sourceIps[0].address: expected 4 or 16 address bytes, got 1']);
    expect(validateAuthorization('ns/p', { name: 'p', namespace: 'ns', action: 'DENY', rules: [{}] })).toEqual([]);
  });
});

describe('conversion to the domain model', () => {
  it('applies xDS defaults for trust domain, service account and cluster', () => {
    const w = toWorkload({ uid: 'u', namespace: 'ns', addresses: [ip] });
    expect(w).toMatchObject({
      trustDomain: 'cluster.local',
      serviceAccount: 'default',
      clusterId: 'Kubernetes',
      capacity: 1,
      protocol: 'TCP',
      workloadType: 'deployment',
    });
    expect(w.workloadIps).toEqual(['10.0.0.1']);
    const raw = toWorkload({ uid: 'u' }, { xdsDefaults: false });
    expect(raw).toMatchObject({ trustDomain: '', serviceAccount: '', clusterId: '' });
  });

  it('splits host VIPs from CIDR VIPs and maps enums', () => {
    const s = toService({
      namespace: 'ns',
      hostname: 'h',
      addresses: [{ address: ip }, { address: ip, length: 32 }, { network: 'n', address: 'CgoAAA==', length: 16 }],
      loadBalancing: { routingPreference: ['NETWORK', 'ZONE'], mode: 'STRICT', healthPolicy: 'ALLOW_ALL' },
      ipFamilies: 'IPV6_ONLY',
    });
    expect(s.vips).toEqual([
      { network: '', address: '10.0.0.1' },
      { network: '', address: '10.0.0.1' },
    ]);
    expect(s.cidrVips).toEqual([{ network: 'n', address: '10.10.0.0', prefixLength: 16 }]);
    expect(s.loadBalancer).toEqual({
      routingPreferences: ['Network', 'Zone'],
      mode: 'Strict',
      healthPolicy: 'AllowAll',
    });
    expect(s.ipFamilies).toBe('IPv6');
  });
});
