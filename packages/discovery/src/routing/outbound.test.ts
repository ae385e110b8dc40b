// Outbound routing tables mirroring ztunnel's integration scenarios (facts §11) and §2.1 rules.
import { describe, expect, it } from 'vitest';
import { DiscoveryStore } from '../store/store.ts';
import { endpointOf, seeded, service, viaHost, viaIp, workload } from '../../test/fixtures.ts';
import { routeOutbound } from './outbound.ts';

const client = workload('client', '10.0.2.2');
const server = workload('server', '10.0.3.3', {
  node: 'node2',
  services: [endpointOf('default/server.default.svc.cluster.local')],
});
const tcpServer = workload('tcp-server', '10.0.3.4', { protocol: 'TCP' });
const waypoint = workload('waypoint', '10.0.3.9', {
  services: [endpointOf('default/waypoint.default.svc.cluster.local', [[15008, 15008]])],
});
const waypointSvc = service('waypoint', '10.96.0.9', { ports: [{ servicePort: 15008, targetPort: 15008 }] });

function storeWith(...items: Parameters<DiscoveryStore['apply']>[0][]): DiscoveryStore {
  const store = new DiscoveryStore();
  store.apply({
    workloads: [client, server, tcpServer, waypoint],
    services: [service('server', '10.96.0.1'), waypointSvc],
  });
  for (const item of items) store.apply(item);
  return store;
}

const route = (store: DiscoveryStore, ip: string, port: number, source = client, options = {}) =>
  routeOutbound(store, { source, destination: { ip, port } }, { random: seeded(1), ...options });

describe('routeOutbound (ztunnel scenarios)', () => {
  it('captured -> captured by pod IP: HBONE to podIP:15008 with authority podIP:port', () => {
    expect(route(storeWith(), '10.0.3.3', 8080)).toMatchObject({
      kind: 'hbone',
      reason: 'direct',
      target: { kind: 'ip', ip: '10.0.3.3', port: 15008 },
      authority: '10.0.3.3:8080',
      expectedIdentities: ['spiffe://cluster.local/ns/default/sa/server'],
    });
  });

  it('mesh -> non-HBONE workload is plain TCP; unknown destination is passthrough', () => {
    expect(route(storeWith(), '10.0.3.4', 8080)).toMatchObject({ kind: 'tcp', target: { ip: '10.0.3.4', port: 8080 } });
    expect(route(storeWith(), '93.184.216.34', 443)).toMatchObject({
      kind: 'passthrough',
      reason: 'unknown-destination',
      target: { ip: '93.184.216.34', port: 443 },
    });
    expect(route(storeWith(), '93.184.216.34', 443, client, { onDemand: true })).toMatchObject({
      kind: 'lookup',
      name: '/93.184.216.34',
    });
  });

  it('Service VIP: load-balanced endpoint, translated authority endpointIP:targetPort, service SANs added', () => {
    const store = storeWith({
      services: [
        service('server', '10.96.0.1', {
          subjectAltNames: ['spiffe://cluster.local/ns/default/sa/extra', 'not-spiffe'],
        }),
      ],
    });
    expect(route(store, '10.96.0.1', 80)).toMatchObject({
      kind: 'hbone',
      target: { ip: '10.0.3.3', port: 15008 },
      authority: '10.0.3.3:8080',
      expectedIdentities: ['spiffe://cluster.local/ns/default/sa/server', 'spiffe://cluster.local/ns/default/sa/extra'],
    });
  });

  it('workload_waypoint: pod-IP traffic goes to the waypoint with the original authority', () => {
    const store = storeWith({ workloads: [{ ...server, waypoint: viaIp('10.0.3.9') }] });
    expect(route(store, '10.0.3.3', 8080)).toMatchObject({
      kind: 'hbone',
      reason: 'workload-waypoint',
      target: { ip: '10.0.3.9', port: 15008 },
      authority: '10.0.3.3:8080',
      expectedIdentities: ['spiffe://cluster.local/ns/default/sa/waypoint'],
    });
    // the waypoint itself is not looped back to itself (sandwich)
    expect(route(store, '10.0.3.3', 8080, waypoint)).toMatchObject({
      kind: 'hbone',
      reason: 'direct',
      target: { ip: '10.0.3.3' },
    });
  });

  it.each([
    ['by IP', viaIp('10.0.3.9')],
    ['by waypoint service VIP', viaIp('10.96.0.9')],
    ['by service hostname', viaHost('waypoint.default.svc.cluster.local')],
    ['by workload hostname', viaHost('wp-host.example')],
  ])('service_waypoint %s: VIP traffic goes to the waypoint with authority VIP:port', (_label, gateway) => {
    const store = storeWith({
      workloads: [{ ...waypoint, hostname: 'wp-host.example' }],
      services: [service('server', '10.96.0.1', { waypoint: gateway })],
    });
    expect(route(store, '10.96.0.1', 80)).toMatchObject({
      kind: 'hbone',
      reason: 'service-waypoint',
      target: { ip: '10.0.3.9', port: 15008 },
      authority: '10.96.0.1:80',
      upstream: { name: 'waypoint' },
    });
    // pod-IP traffic to an endpoint of that service does not use the service waypoint
    expect(route(store, '10.0.3.3', 8080)).toMatchObject({ reason: 'direct' });
  });

  it('unknown waypoint fails the connection', () => {
    const store = storeWith({ services: [service('server', '10.96.0.1', { waypoint: viaHost('nope.example') })] });
    expect(route(store, '10.96.0.1', 80)).toMatchObject({ kind: 'fail', reason: 'unknown-waypoint' });
  });

  it('weighted waypoints are sampled by weight; weight 0 is never chosen', () => {
    const other = workload('waypoint2', '10.0.3.10');
    const store = storeWith({
      workloads: [other],
      services: [
        service('server', '10.96.0.1', {
          weightedWaypoints: [
            { destination: viaIp('10.0.3.9'), weight: 1 },
            { destination: viaIp('10.0.3.10'), weight: 0 },
          ],
        }),
      ],
    });
    const random = seeded(7);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const d = routeOutbound(store, { source: client, destination: { ip: '10.96.0.1', port: 80 } }, { random });
      if (d.kind === 'hbone' && d.target.kind === 'ip') seen.add(d.target.ip);
    }
    expect([...seen]).toEqual(['10.0.3.9']);
  });

  it('service_loadbalancing: weighted random spreads 50 connections over both endpoints', () => {
    const second = workload('server2', '10.0.4.3', {
      node: 'node3',
      services: [endpointOf('default/server.default.svc.cluster.local')],
    });
    const store = storeWith({ workloads: [second] });
    const random = seeded(42);
    const hits = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const d = routeOutbound(store, { source: client, destination: { ip: '10.96.0.1', port: 80 } }, { random });
      if (d.kind === 'hbone') hits.set(d.upstream.name, (hits.get(d.upstream.name) ?? 0) + 1);
    }
    expect([...hits.keys()].sort()).toEqual(['server', 'server2']);
    // capacity 0 is never picked
    const store2 = storeWith({ workloads: [{ ...second, capacity: 0 }] });
    for (let i = 0; i < 20; i++) expect(route(store2, '10.96.0.1', 80)).toMatchObject({ upstream: { name: 'server' } });
  });

  it('no healthy upstream closes the connection; ALLOW_ALL keeps unhealthy endpoints; PASSTHROUGH mode passes through', () => {
    const sick = storeWith({ workloads: [{ ...server, status: 'Unhealthy' }] });
    expect(route(sick, '10.96.0.1', 80)).toMatchObject({
      kind: 'fail',
      reason: 'no-healthy-upstream',
      message: 'no healthy upstream',
    });
    const allowAll = storeWith({
      workloads: [{ ...server, status: 'Unhealthy' }],
      services: [
        service('server', '10.96.0.1', {
          loadBalancer: { routingPreferences: [], mode: 'Standard', healthPolicy: 'AllowAll' },
        }),
      ],
    });
    expect(route(allowAll, '10.96.0.1', 80)).toMatchObject({ kind: 'hbone', upstream: { name: 'server' } });
    const empty = storeWith({ services: [service('empty', '10.96.0.2')] });
    expect(route(empty, '10.96.0.2', 80)).toMatchObject({ kind: 'fail', reason: 'no-healthy-upstream' });
    const passthrough = storeWith({
      services: [
        service('empty', '10.96.0.2', {
          loadBalancer: { routingPreferences: [], mode: 'Passthrough', healthPolicy: 'OnlyHealthy' },
        }),
      ],
    });
    expect(route(passthrough, '10.96.0.2', 80)).toMatchObject({ kind: 'passthrough', reason: 'lb-passthrough' });
    // undeclared service port
    expect(route(storeWith(), '10.96.0.1', 81)).toMatchObject({ kind: 'fail', reason: 'no-healthy-upstream' });
  });

  it('named target port (0) resolves per endpoint; endpoints without a mapping are skipped', () => {
    const store = storeWith({
      services: [service('server', '10.96.0.1', { ports: [{ servicePort: 80, targetPort: 0 }] })],
      workloads: [{ ...server, services: [endpointOf('default/server.default.svc.cluster.local', [[80, 9090]])] }],
    });
    expect(route(store, '10.96.0.1', 80)).toMatchObject({ authority: '10.0.3.3:9090' });
    const unmapped = storeWith({
      services: [service('server', '10.96.0.1', { ports: [{ servicePort: 80, targetPort: 0 }] })],
      workloads: [{ ...server, services: [endpointOf('default/server.default.svc.cluster.local', [])] }],
    });
    expect(route(unmapped, '10.96.0.1', 80)).toMatchObject({ kind: 'fail' });
  });

  it('locality: FAILOVER keeps the best-ranked group, STRICT drops non-matching endpoints', () => {
    const near = workload('near', '10.0.5.1', {
      locality: { region: 'r1', zone: 'z1', subzone: '' },
      services: [endpointOf('default/lb.default.svc.cluster.local')],
    });
    const far = workload('far', '10.0.5.2', {
      locality: { region: 'r2', zone: 'z9', subzone: '' },
      services: [endpointOf('default/lb.default.svc.cluster.local')],
    });
    const src = { ...client, locality: { region: 'r1', zone: 'z1', subzone: '' } };
    const lb = (mode: 'Failover' | 'Strict') =>
      service('lb', '10.96.0.5', {
        loadBalancer: { routingPreferences: ['Region', 'Zone'], mode, healthPolicy: 'OnlyHealthy' },
      });
    const failover = storeWith({ workloads: [near, far], services: [lb('Failover')] });
    for (let i = 0; i < 10; i++)
      expect(
        routeOutbound(failover, { source: src, destination: { ip: '10.96.0.5', port: 80 } }, { random: seeded(i) }),
      ).toMatchObject({ upstream: { name: 'near' } });
    const strict = storeWith({ workloads: [far], services: [lb('Strict')] });
    expect(
      routeOutbound(strict, { source: src, destination: { ip: '10.96.0.5', port: 80 } }, { random: seeded(1) }),
    ).toMatchObject({ kind: 'fail' });
    const failoverFar = storeWith({ workloads: [far], services: [lb('Failover')] });
    expect(
      routeOutbound(failoverFar, { source: src, destination: { ip: '10.96.0.5', port: 80 } }, { random: seeded(1) }),
    ).toMatchObject({ upstream: { name: 'far' } });
  });

  it('IP family: keeps the original destination IP, else prefers its family within ip_families', () => {
    const dual = workload('dual', '10.0.6.1', {
      workloadIps: ['10.0.6.1', 'fd00::1'],
      services: [endpointOf('default/d.default.svc.cluster.local')],
    });
    const svc = (ipFamilies?: 'IPv4' | 'IPv6' | 'Dual') =>
      service('d', undefined, {
        vips: [
          { network: '', address: '10.96.0.6' },
          { network: '', address: 'fd00::96' },
        ],
        ...(ipFamilies ? { ipFamilies } : {}),
      });
    expect(route(storeWith({ workloads: [dual], services: [svc()] }), 'fd00::96', 80)).toMatchObject({
      authority: '[fd00::1]:8080',
    });
    expect(route(storeWith({ workloads: [dual], services: [svc()] }), '10.96.0.6', 80)).toMatchObject({
      authority: '10.0.6.1:8080',
    });
    expect(route(storeWith({ workloads: [dual], services: [svc('IPv6')] }), '10.96.0.6', 80)).toMatchObject({
      authority: '[fd00::1]:8080',
    });
    expect(route(storeWith({ workloads: [dual] }), 'fd00::1', 8080)).toMatchObject({
      target: { ip: 'fd00::1', port: 15008 },
    });
  });

  it('double_hbone: cross-network service traffic goes through the E/W gateway (by IP and by gateway service)', () => {
    const remote = workload('remote', '10.1.0.3', {
      network: 'remote',
      services: [endpointOf('default/remote.default.svc.cluster.local')],
      networkGateway: viaIp('10.1.0.100', 15009, 'remote'),
    });
    const gateway = workload('gateway', '10.1.0.100', {
      network: 'remote',
      serviceAccount: 'eastwest',
      services: [endpointOf('istio-system/gw.istio-system.svc.cluster.local', [[15009, 15008]])],
    });
    const remoteSvc = service('remote', '10.96.1.1', {
      subjectAltNames: ['spiffe://cluster.local/ns/default/sa/remote'],
    });
    const byIp = storeWith({ workloads: [remote, gateway], services: [remoteSvc] });
    expect(route(byIp, '10.96.1.1', 80)).toMatchObject({
      kind: 'double-hbone',
      gateway: { kind: 'ip', ip: '10.1.0.100', port: 15009 },
      gatewayIdentities: ['spiffe://cluster.local/ns/default/sa/eastwest'],
      authority: 'remote.default.svc.cluster.local:80',
      innerIdentities: ['spiffe://cluster.local/ns/default/sa/remote'],
    });
    const gwSvc = service('gw', undefined, {
      namespace: 'istio-system',
      hostname: 'gw.istio-system.svc.cluster.local',
      ports: [{ servicePort: 15009, targetPort: 15008 }],
    });
    const byService = storeWith({
      workloads: [
        { ...remote, networkGateway: viaHost('gw.istio-system.svc.cluster.local', 15009, 'istio-system') },
        gateway,
      ],
      services: [remoteSvc, gwSvc],
    });
    expect(route(byService, '10.96.1.1', 80)).toMatchObject({
      kind: 'double-hbone',
      gateway: { ip: '10.1.0.100', port: 15008 },
    });
    const { networkGateway: _dropped, ...bare } = remote;
    const noGw = storeWith({ workloads: [bare], services: [remoteSvc] });
    expect(route(noGw, '10.96.1.1', 80)).toMatchObject({ kind: 'fail', reason: 'no-network-gateway' });
  });

  it('illegal ports on loopback are dropped; an unknown source is dropped', () => {
    expect(route(storeWith(), '127.0.0.1', 15001)).toMatchObject({ kind: 'drop', reason: 'illegal-port' });
    expect(route(storeWith(), '127.0.0.1', 15008)).toMatchObject({ kind: 'drop', reason: 'illegal-port' });
    expect(route(storeWith(), '127.0.0.1', 8080)).toMatchObject({ kind: 'passthrough' });
    expect(routeOutbound(storeWith(), { source: undefined, destination: { ip: '10.0.3.3', port: 80 } })).toMatchObject({
      kind: 'drop',
      reason: 'unknown-source',
    });
  });

  it('NAMESPACE-visibility services are only resolvable from their namespace', () => {
    const store = storeWith({ services: [service('server', '10.96.0.1', { visibility: 'Namespace' })] });
    expect(route(store, '10.96.0.1', 80)).toMatchObject({ kind: 'hbone' });
    expect(route(store, '10.96.0.1', 80, { ...client, namespace: 'other' })).toMatchObject({ kind: 'passthrough' });
  });
});
