// YAML in → the exact Address resources out, field by field.
import { appProtocolOf } from './services.ts';
import { describe, expect, it } from 'vitest';
import { b64, base, service, tx, workload } from '../../test/support.ts';
import { mayIssue } from './placement.ts';

describe('pods', () => {
  it('an ambient pod becomes an HBONE Workload with every field istiod sets', () => {
    const t = tx(base);
    expect(workload(t, 'Kubernetes//Pod/default/echo-v1')).toEqual({
      uid: 'Kubernetes//Pod/default/echo-v1',
      name: 'echo-v1',
      namespace: 'default',
      addresses: [b64('127.0.1.1')],
      tunnelProtocol: 'HBONE',
      serviceAccount: 'echo',
      node: 'node-a',
      canonicalName: 'echo',
      canonicalRevision: 'v1',
      workloadType: 'POD',
      workloadName: 'echo-v1',
      services: {
        'default/echo.default.svc.cluster.local': {
          ports: [
            { servicePort: 80, targetPort: 8080 },
            { servicePort: 9000, targetPort: 9001 },
          ],
        },
      },
      clusterId: 'Kubernetes',
    });
  });

  it('a pod outside ambient is a TCP workload (tunnelProtocol omitted) with the default service account', () => {
    const w = workload(tx(base), 'Kubernetes//Pod/outside/plain');
    expect(w['tunnelProtocol']).toBeUndefined();
    expect(w).toMatchObject({
      serviceAccount: 'default',
      canonicalName: 'plain',
      canonicalRevision: 'latest',
      node: 'node-b',
    });
    expect(w['services']).toBeUndefined();
  });

  it('pod labels override the namespace: none opts out, ambient opts in', () => {
    const t = tx(`${base}
---
kind: Pod
metadata: {name: opted-out, namespace: default, labels: {istio.io/dataplane-mode: none}}
status: {podIP: 127.0.1.9}
---
kind: Pod
metadata: {name: opted-in, namespace: outside, labels: {istio.io/dataplane-mode: ambient}}
status: {podIP: 127.0.2.9}
`);
    expect(workload(t, 'Kubernetes//Pod/default/opted-out')['tunnelProtocol']).toBeUndefined();
    expect(workload(t, 'Kubernetes//Pod/outside/opted-in')['tunnelProtocol']).toBe('HBONE');
  });

  it('derives workload name from the owning Deployment, canonical names from labels, and health from Ready', () => {
    const t = tx(`
kind: Pod
metadata:
  name: web-5d4f8-x2x9k
  labels: {pod-template-hash: 5d4f8, app.kubernetes.io/name: web, app.kubernetes.io/version: "2.1"}
  ownerReferences: [{kind: ReplicaSet, name: web-5d4f8, controller: true}]
status:
  podIP: 127.0.1.5
  conditions: [{type: Ready, status: "False"}]
`);
    expect(workload(t, 'Kubernetes//Pod/default/web-5d4f8-x2x9k')).toMatchObject({
      workloadName: 'web',
      canonicalName: 'web',
      canonicalRevision: '2.1',
      status: 'UNHEALTHY',
    });
  });

  it('honours clusterId, trust domain and network options (trust domain sent only when not cluster.local)', () => {
    const t = tx(base, { clusterId: 'c1', trustDomain: 'example.org', network: 'net1' });
    const w = workload(t, 'c1//Pod/default/echo-v1');
    expect(w).toMatchObject({
      uid: 'c1//Pod/default/echo-v1',
      clusterId: 'c1',
      trustDomain: 'example.org',
      network: 'net1',
    });
    expect(service(t, 'default/echo.default.svc.cluster.local')['addresses']).toEqual([
      { network: 'net1', address: b64('127.10.0.1') },
    ]);
    expect(workload(tx(base), 'Kubernetes//Pod/default/echo-v1')['trustDomain']).toBeUndefined();
  });
});

describe('services', () => {
  it('a named targetPort is 0 on the Service (omitted) and resolved per endpoint', () => {
    expect(service(tx(base), 'default/echo.default.svc.cluster.local')).toEqual({
      name: 'echo',
      namespace: 'default',
      hostname: 'echo.default.svc.cluster.local',
      addresses: [{ address: b64('127.10.0.1') }],
      ports: [
        { servicePort: 80, appProtocol: 'HTTP11' },
        { servicePort: 9000, targetPort: 9001 },
      ],
    });
  });

  it.each([
    [{ name: 'http' }, 'HTTP11'],
    [{ name: 'http-web' }, 'HTTP11'],
    [{ name: 'HTTP2' }, 'HTTP2'],
    [{ name: 'grpc-api' }, 'GRPC'],
    [{ name: 'grpc-web' }, 'GRPC'],
    [{ name: 'tcp-db' }, 'TCP'],
    [{ name: 'redis' }, 'TCP'],
    [{ name: 'https' }, 'TLS'],
    [{ name: 'tcp', appProtocol: 'http' }, 'HTTP11'],
    [{ name: 'http', appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    [{ name: 'http', appProtocol: 'example.com/custom' }, undefined],
    [{ name: 'admin' }, undefined],
    [{}, undefined],
  ])('port %o declares app protocol %s (Istio protocol selection)', (port, expected) => {
    expect(appProtocolOf(port)).toBe(expected);
  });

  it('a missing targetPort defaults to the port; PreferClose and Local map to istiod load balancing', () => {
    const t = tx(`
kind: Service
metadata: {name: s, annotations: {networking.istio.io/traffic-distribution: PreferClose}}
spec: {clusterIP: 127.10.0.5, selector: {app: s}, ports: [{port: 8080}]}
---
kind: Service
metadata: {name: local}
spec: {clusterIP: 127.10.0.6, internalTrafficPolicy: Local, publishNotReadyAddresses: true, ipFamilies: [IPv4], ports: [{port: 1}]}
`);
    expect(service(t, 'default/s.default.svc.cluster.local')).toMatchObject({
      ports: [{ servicePort: 8080, targetPort: 8080 }],
      loadBalancing: { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' },
    });
    expect(service(t, 'default/local.default.svc.cluster.local')).toMatchObject({
      loadBalancing: { routingPreference: ['NODE'], mode: 'STRICT', healthPolicy: 'ALLOW_ALL' },
      ipFamilies: 'IPV4_ONLY',
    });
  });
});

describe('placement', () => {
  it('lists nodes and the identities running on each', () => {
    const t = tx(base);
    expect(t.placement.nodes).toEqual(['node-a', 'node-b']);
    expect([...t.placement.identitiesByNode.get('node-a')!]).toEqual(['spiffe://cluster.local/ns/default/sa/echo']);
    expect(mayIssue(t.placement, 'node-a', 'spiffe://cluster.local/ns/outside/sa/default')).toBe(false);
    expect(mayIssue(t.placement, 'node-b', 'spiffe://cluster.local/ns/outside/sa/default')).toBe(true);
  });
});
