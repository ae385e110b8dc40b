import { DiscoveryStore, parseLocalConfig, applyLocalConfig } from '@ambient-ts/discovery';
import { describe, expect, it } from 'vitest';
import { designatesSelf, dispatch, type WaypointSelf } from './dispatch.ts';

const self: WaypointSelf = {
  gatewayName: 'waypoint',
  namespace: 'default',
  hostname: 'waypoint.default.svc.cluster.local',
  instanceIp: '10.0.0.9',
  network: '',
};

const store = new DiscoveryStore();
applyLocalConfig(
  store,
  parseLocalConfig(`
services:
- {name: echo, namespace: default, hostname: echo.default.svc.cluster.local, vips: [/10.96.0.1], ports: {80: 8080},
   waypoint: {destination: default/waypoint.default.svc.cluster.local, hboneMtlsPort: 15008}}
- {name: by-ip, namespace: default, hostname: by-ip.default.svc.cluster.local, vips: [/10.96.0.2], ports: {80: 8080},
   waypoint: {destination: /10.96.0.9, hboneMtlsPort: 15008}}
- {name: waypoint, namespace: default, hostname: waypoint.default.svc.cluster.local, vips: [/10.96.0.9], ports: {15008: 15008}}
- {name: other, namespace: default, hostname: other.default.svc.cluster.local, vips: [/10.96.0.3], ports: {80: 8080},
   waypoint: {destination: default/another.default.svc.cluster.local, hboneMtlsPort: 15008}}
workloads:
- {uid: pod, name: pod, namespace: default, workloadIps: [10.0.0.5], waypoint: {destination: /10.0.0.9, hboneMtlsPort: 15008}}
- {uid: plain, name: plain, namespace: default, workloadIps: [10.0.0.6]}
`),
);

describe('dispatch', () => {
  const ip = (address: string, port: number) => ({ kind: 'ip' as const, address, port, family: 4 as const });

  it('serves Service VIPs bound to this waypoint by hostname or by its Service VIP', () => {
    expect(dispatch(store, ip('10.96.0.1', 80), self)).toMatchObject({
      kind: 'service',
      servicePort: 80,
      service: { name: 'echo' },
    });
    expect(dispatch(store, ip('10.96.0.2', 80), self)).toMatchObject({ kind: 'service', service: { name: 'by-ip' } });
  });

  it('serves pods bound to it (workload waypoint, by its own address)', () => {
    expect(dispatch(store, ip('10.0.0.5', 8080), self)).toMatchObject({
      kind: 'workload',
      port: 8080,
      workload: { name: 'pod' },
    });
  });

  it('refuses the rest with 503 and host-name authorities with 400', () => {
    expect(dispatch(store, ip('10.96.0.1', 81), self)).toMatchObject({
      kind: 'reject',
      status: 503,
      message: expect.stringContaining('has no port 81'),
    });
    expect(dispatch(store, ip('10.96.0.3', 80), self)).toMatchObject({
      status: 503,
      message: expect.stringContaining('not bound to this waypoint'),
    });
    expect(dispatch(store, ip('10.0.0.6', 80), self)).toMatchObject({ status: 503 });
    expect(dispatch(store, ip('10.1.1.1', 80), self)).toMatchObject({
      status: 503,
      message: expect.stringContaining('no service or workload'),
    });
    expect(dispatch(store, { kind: 'host', host: 'echo.default', port: 80 }, self)).toMatchObject({
      status: 400,
      message: expect.stringContaining('CONNECT authority echo.default:80 is a host name'),
    });
    expect(dispatch(store, { kind: 'ip', address: 'fd00::9', port: 80, family: 6 }, self)).toMatchObject({
      status: 503,
      message: 'unknown destination [fd00::9]:80: no service or workload at fd00::9',
    });
  });

  it('recognises itself in every GatewayAddress form', () => {
    expect(designatesSelf(store, undefined, self)).toBe(false);
    expect(
      designatesSelf(
        store,
        { destination: { kind: 'address', network: '', address: '10.0.0.9' }, hboneMtlsPort: 15008 },
        self,
      ),
    ).toBe(true);
    expect(
      designatesSelf(
        store,
        { destination: { kind: 'hostname', namespace: 'other', hostname: self.hostname }, hboneMtlsPort: 15008 },
        self,
      ),
    ).toBe(false);
  });
});
