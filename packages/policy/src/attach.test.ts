import { describe, expect, it } from 'vitest';
import { kube, xds } from '../test/helpers.ts';
import { appliesToWorkload, selectForWaypoint } from './attach.ts';

const gatewayRef = (name: string) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name });

describe('selectForWaypoint (targetRefs only)', () => {
  const policies = [
    kube({ targetRefs: [gatewayRef('waypoint')], rules: [{}] }, { name: 'gateway', namespace: 'app' }),
    kube({ targetRefs: [gatewayRef('waypoint')], rules: [{}] }, { name: 'gateway-other-ns', namespace: 'other' }),
    kube(
      { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] },
      { name: 'default-deny', namespace: 'istio-system' },
    ),
    kube(
      { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }] },
      { name: 'class-not-root', namespace: 'app' },
    ),
    kube(
      { targetRefs: [{ group: '', kind: 'Service', name: 'reviews' }], rules: [{}] },
      { name: 'service', namespace: 'app' },
    ),
    kube(
      { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'external' }], rules: [{}] },
      { name: 'service-entry', namespace: 'app' },
    ),
    kube({ selector: { matchLabels: { app: 'reviews' } }, rules: [{}] }, { name: 'selector', namespace: 'app' }),
    kube({ rules: [{}] }, { name: 'namespace-wide', namespace: 'app' }),
  ];
  const waypoint = { rootNamespace: 'istio-system', gateway: { name: 'waypoint', namespace: 'app' } };

  it('Gateway in its namespace, GatewayClass from the root namespace, and the Service of the request', () => {
    expect(
      selectForWaypoint(policies, { ...waypoint, service: { name: 'reviews', namespace: 'app' } }).map((p) => p.name),
    ).toEqual(['gateway', 'default-deny', 'service']);
  });

  it('ServiceEntry targets need a ServiceEntry request', () => {
    expect(
      selectForWaypoint(policies, {
        ...waypoint,
        service: { kind: 'ServiceEntry', name: 'external', namespace: 'app' },
      }).map((p) => p.name),
    ).toEqual(['gateway', 'default-deny', 'service-entry']);
  });

  it('a waypoint of another GatewayClass does not get istio-waypoint policies', () => {
    expect(
      selectForWaypoint(policies, { ...waypoint, gateway: { ...waypoint.gateway, gatewayClassName: 'custom' } }).map(
        (p) => p.name,
      ),
    ).toEqual(['gateway']);
  });
});

describe('appliesToWorkload (ztunnel, Kubernetes form)', () => {
  const workload = { namespace: 'app', labels: { app: 'reviews', version: 'v1' } };
  const options = { rootNamespace: 'istio-system' };

  it.each([
    [kube({ rules: [{}] }, { namespace: 'app' }), true],
    [kube({ rules: [{}] }, { namespace: 'other' }), false],
    [kube({ rules: [{}] }, { namespace: 'istio-system' }), true],
    [kube({ selector: { matchLabels: { app: 'reviews' } } }, { namespace: 'app' }), true],
    [kube({ selector: { matchLabels: { app: 'reviews', version: 'v2' } } }, { namespace: 'app' }), false],
    [kube({ selector: { matchLabels: { app: 'reviews' } } }, { namespace: 'istio-system' }), true],
    [kube({ selector: { matchLabels: { app: 'reviews' } } }, { namespace: 'other' }), false],
    [kube({ targetRefs: [{ group: '', kind: 'Service', name: 'reviews' }] }, { namespace: 'app' }), false],
    [xds({ namespace: 'istio-system' }), true],
    [xds({ namespace: 'app', scope: 'NAMESPACE' }), true],
    [xds({ namespace: 'other', scope: 'NAMESPACE' }), false],
  ])('%#', (policy, expected) => {
    expect(appliesToWorkload(policy, workload, options)).toBe(expected);
  });
});
