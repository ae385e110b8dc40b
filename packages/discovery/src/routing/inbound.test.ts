// Inbound HBONE checks (facts §1.6): hbone_ip_mismatch, test_svc_hostname_port(_named), sandwich.
import { describe, expect, it } from 'vitest';
import { DiscoveryStore } from '../store/store.ts';
import { endpointOf, service, viaIp, workload } from '../../test/fixtures.ts';
import { routeInbound } from './inbound.ts';

const server = workload('server', '10.0.3.3', {
  services: [
    endpointOf('default/server.default.svc.cluster.local', [
      [80, 8080],
      [81, 9191],
    ]),
  ],
});
const other = workload('other', '10.0.3.4');

function store(...extra: Parameters<DiscoveryStore['apply']>[0][]): DiscoveryStore {
  const s = new DiscoveryStore();
  s.apply({
    workloads: [server, other],
    services: [
      service('server', '10.96.0.1', {
        ports: [
          { servicePort: 80, targetPort: 8080 },
          { servicePort: 81, targetPort: 0 },
        ],
      }),
    ],
  });
  for (const e of extra) s.apply(e);
  return s;
}

describe('routeInbound authority (parsed by @ambient-ts/addresses)', () => {
  it.each(['10.0.0.1', 'host', '', '[fd00::1]', 'fd00::1:80', 'a b:80', '10.0.0.1:99999', '[10.0.0.1]:80'])(
    'rejects %j with 400 invalid-authority',
    (text) => {
      expect(routeInbound(store(), { local: server, connectionIp: '10.0.3.3', authority: text })).toMatchObject({
        kind: 'reject',
        status: 400,
        reason: 'invalid-authority',
        message: `invalid CONNECT address ${JSON.stringify(text)}`,
      });
    },
  );
});

describe('routeInbound', () => {
  const inbound = (s: DiscoveryStore, authority: string, local = server, connectionIp = '10.0.3.3') =>
    routeInbound(s, { local, connectionIp, authority });

  it('accepts its own IP and delivers to podIP:port', () => {
    expect(inbound(store(), '10.0.3.3:8080')).toMatchObject({ kind: 'accept', target: { ip: '10.0.3.3', port: 8080 } });
  });

  it('hbone_ip_mismatch: another IP is refused with 400', () => {
    expect(inbound(store(), '10.0.3.4:8080')).toEqual({
      kind: 'reject',
      status: 400,
      reason: 'ip-mismatch',
      message: 'ip mismatch: 10.0.3.3 != 10.0.3.4',
    });
  });

  it('malformed authority is 400; unknown local workload is 503', () => {
    expect(inbound(store(), 'garbage')).toMatchObject({ status: 400, reason: 'invalid-authority' });
    expect(
      routeInbound(store(), { local: undefined, connectionIp: '10.0.3.3', authority: '10.0.3.3:80' }),
    ).toMatchObject({ status: 503 });
  });

  it('test_svc_hostname_port: hostname authority resolves the service target port, named ports per endpoint', () => {
    expect(inbound(store(), 'server.default.svc.cluster.local:80')).toMatchObject({
      kind: 'accept',
      target: { ip: '10.0.3.3', port: 8080 },
      service: { name: 'server' },
    });
    expect(inbound(store(), 'server.default.svc.cluster.local:81')).toMatchObject({
      kind: 'accept',
      target: { port: 9191 },
    });
    expect(inbound(store(), 'server.default.svc.cluster.local:82')).toMatchObject({
      status: 503,
      reason: 'unresolved-port',
    });
    expect(inbound(store(), 'nope.default.svc.cluster.local:80')).toMatchObject({
      status: 503,
      reason: 'unknown-service',
    });
  });

  it('a resolved illegal port is 503; an application tunnel replaces the port', () => {
    expect(inbound(store(), '10.0.3.3:15008')).toMatchObject({ status: 503, reason: 'illegal-port' });
    const tunnelled = { ...server, applicationTunnel: { protocol: 'PROXY' as const, port: 15088 } };
    expect(inbound(store({ workloads: [tunnelled] }), '10.0.3.4:8080', tunnelled)).toMatchObject({
      kind: 'accept',
      target: { port: 15088 },
      resolvedPort: 8080,
    });
  });

  it('sandwich: a waypoint accepts authorities of the workloads and services it is the waypoint for', () => {
    const waypoint = workload('waypoint', '10.0.3.9');
    const s = store({ workloads: [waypoint, { ...other, waypoint: viaIp('10.0.3.9') }] });
    expect(inbound(s, '10.0.3.4:8080', waypoint, '10.0.3.9')).toMatchObject({
      kind: 'accept',
      target: { ip: '10.0.3.9', port: 8080 },
    });
    expect(inbound(s, '10.0.3.3:8080', waypoint, '10.0.3.9')).toMatchObject({ status: 400 });
    const svcWp = store({
      workloads: [waypoint],
      services: [service('server', '10.96.0.1', { waypoint: viaIp('10.0.3.9') })],
    });
    expect(inbound(svcWp, '10.96.0.1:80', waypoint, '10.0.3.9')).toMatchObject({ kind: 'accept' });
  });
});
