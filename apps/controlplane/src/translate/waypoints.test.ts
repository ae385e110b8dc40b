// Waypoint binding: namespace default vs own label, waypoint-for, opt-out, the waypoint's own pod and Service.
import { describe, expect, it } from 'vitest';
import { b64, base, service, tx, workload } from '../../test/support.ts';
import { mayIssue } from './placement.ts';

const waypointGateway = (waypointFor: string): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: wp
  namespace: default
  labels: {istio.io/waypoint-for: ${waypointFor}}
  annotations: {ambient-ts.io/pod-ip: 127.0.2.10, ambient-ts.io/node: node-b}
spec:
  gatewayClassName: istio-waypoint
  addresses: [{type: IPAddress, value: 127.10.0.10}]
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;

const inherited = (waypointFor: string): string =>
  base.replace(
    'labels: {istio.io/dataplane-mode: ambient}',
    'labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wp}',
  ) + waypointGateway(waypointFor);

const wpAddress = {
  hostname: { namespace: 'default', hostname: 'wp.default.svc.cluster.local' },
  hboneMtlsPort: 15008,
};

describe('waypoints', () => {
  it('namespace-inherited, waypoint-for service: the Service gets it, pods do not', () => {
    const t = tx(inherited('service'));
    expect(service(t, 'default/echo.default.svc.cluster.local')['waypoint']).toEqual(wpAddress);
    expect(workload(t, 'Kubernetes//Pod/default/echo-v1')['waypoint']).toBeUndefined();
    expect(t.problems).toEqual([]);
  });

  it('namespace-inherited, waypoint-for workload: pods get it, the Service does not', () => {
    const t = tx(inherited('workload'));
    expect(workload(t, 'Kubernetes//Pod/default/echo-v1')['waypoint']).toEqual(wpAddress);
    expect(service(t, 'default/echo.default.svc.cluster.local')['waypoint']).toBeUndefined();
    expect(t.problems).toEqual([]);
  });

  it('waypoint-for all binds both; a use-waypoint: none label opts one object out', () => {
    const t = tx(
      inherited('all').replace(
        'labels: {app: echo, version: v1}',
        'labels: {app: echo, version: v1, istio.io/use-waypoint: none}',
      ),
    );
    expect(service(t, 'default/echo.default.svc.cluster.local')['waypoint']).toEqual(wpAddress);
    expect(workload(t, 'Kubernetes//Pod/default/echo-v1')['waypoint']).toBeUndefined();
  });

  it('waypoint-for none binds nothing', () => {
    const t = tx(inherited('none'));
    expect(service(t, 'default/echo.default.svc.cluster.local')['waypoint']).toBeUndefined();
    expect(workload(t, 'Kubernetes//Pod/default/echo-v1')['waypoint']).toBeUndefined();
  });

  it("the waypoint's own pod is an HBONE workload with identity sa = Gateway name, endpoint of its Service", () => {
    const t = tx(inherited('service'));
    expect(workload(t, 'Kubernetes//Pod/default/wp')).toEqual({
      uid: 'Kubernetes//Pod/default/wp',
      name: 'wp',
      namespace: 'default',
      addresses: [b64('127.0.2.10')],
      tunnelProtocol: 'HBONE',
      serviceAccount: 'wp',
      node: 'node-b',
      canonicalName: 'wp',
      canonicalRevision: 'latest',
      workloadType: 'POD',
      workloadName: 'wp',
      nativeTunnel: true,
      services: {
        'default/wp.default.svc.cluster.local': {
          ports: [
            { servicePort: 15021, targetPort: 15021 },
            { servicePort: 15008, targetPort: 15008 },
          ],
        },
      },
      clusterId: 'Kubernetes',
    });
    expect(service(t, 'default/wp.default.svc.cluster.local')).toEqual({
      name: 'wp',
      namespace: 'default',
      hostname: 'wp.default.svc.cluster.local',
      addresses: [{ address: b64('127.10.0.10') }],
      ports: [
        { servicePort: 15021, targetPort: 15021 },
        { servicePort: 15008, targetPort: 15008 },
      ],
      loadBalancing: { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' },
    });
    expect(mayIssue(t.placement, 'node-b', 'spiffe://cluster.local/ns/default/sa/wp')).toBe(true);
    expect(t.placement.waypoints).toEqual([
      { namespace: 'default', name: 'wp', identity: 'spiffe://cluster.local/ns/default/sa/wp', nodes: ['node-b'] },
    ]);
  });

  it('placement names a waypoint with its service-account annotation, and without a node when it has none', () => {
    const t = tx(
      base +
        waypointGateway('service').replace('ambient-ts.io/node: node-b', 'gateway.istio.io/service-account: wp-sa'),
    );
    expect(t.placement.waypoints).toEqual([
      { namespace: 'default', name: 'wp', identity: 'spiffe://cluster.local/ns/default/sa/wp-sa', nodes: [] },
    ]);
  });

  it('a Service label names its waypoint explicitly; addresses missing on the Gateway come from the options', () => {
    const t = tx(
      `${base}
---
kind: Service
metadata: {name: direct, labels: {istio.io/use-waypoint: wp2}}
spec: {clusterIP: 127.10.0.7, selector: {app: echo}, ports: [{port: 81}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp2, namespace: default}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`,
      { waypoints: { vipRange: '127.10.255.0/24', podIpRange: '127.0.255.0/24', node: 'node-a' } },
    );
    expect(service(t, 'default/direct.default.svc.cluster.local')['waypoint']).toMatchObject({
      hostname: { hostname: 'wp2.default.svc.cluster.local' },
    });
    expect(service(t, 'default/echo.default.svc.cluster.local')['waypoint']).toBeUndefined();
    expect(service(t, 'default/wp2.default.svc.cluster.local')['addresses']).toEqual([
      { address: b64('127.10.255.1') },
    ]);
    expect(workload(t, 'Kubernetes//Pod/default/wp2')).toMatchObject({
      addresses: [b64('127.0.255.1')],
      node: 'node-a',
    });
  });
});
