import { describe, expect, it } from 'vitest';
import { endpointOf, service, workload } from '../../test/fixtures.ts';
import type { security } from '@ambient-ts/istio-api';
import { fromXdsAuthorization, type AuthorizationPolicy } from '@ambient-ts/policy';
import type { StoreChange } from './types.ts';
import { DiscoveryStore } from './store.ts';

const policy = (namespace: string, name: string, extra: Partial<security.Authorization> = {}): AuthorizationPolicy => {
  const result = fromXdsAuthorization({ name, namespace, ...extra });
  if (!result.ok) throw new Error(result.message);
  return result.policy;
};

describe('DiscoveryStore', () => {
  it('indexes workloads by network/ip, hostname, node and uid; host-network workloads are not indexed by IP', () => {
    const s = new DiscoveryStore();
    s.apply({
      workloads: [
        workload('a', '10.0.0.1', { hostname: 'a.example', node: 'n1' }),
        workload('b', '10.0.0.2', { network: 'net2', node: 'n2' }),
        workload('h', '10.0.0.3', { networkMode: 'HostNetwork' }),
      ],
    });
    expect(s.findWorkloadByAddress('', '10.0.0.1')?.name).toBe('a');
    expect(s.findWorkloadByAddress('', '10.0.0.2')).toBeUndefined();
    expect(s.findWorkloadByAddress('net2', '10.0.0.2')?.name).toBe('b');
    expect(s.findWorkloadByAddress('', '10.0.0.3')).toBeUndefined();
    expect(s.findWorkloadsByHostname('a.example').map((w) => w.name)).toEqual(['a']);
    expect(s.workloadsOnNode('n2').map((w) => w.name)).toEqual(['b']);
    expect(s.findLocalWorkload({ node: 'n1', namespace: 'default', name: 'a', serviceAccount: 'a' })?.uid).toBe(
      'Kubernetes//Pod/default/a',
    );
    expect(s.findLocalWorkload({ node: 'n2', namespace: 'default', name: 'a', serviceAccount: 'a' })).toBeUndefined();
  });

  it('several workloads on one IP prefer a Pod uid and HBONE', () => {
    const s = new DiscoveryStore();
    s.apply({
      workloads: [
        {
          ...workload('we', '10.0.0.9', { protocol: 'TCP' }),
          uid: 'Kubernetes/networking.istio.io/WorkloadEntry/default/we',
        },
        workload('pod-tcp', '10.0.0.9', { protocol: 'TCP' }),
        workload('pod-hbone', '10.0.0.9'),
      ],
    });
    expect(s.findWorkloadByAddress('', '10.0.0.9')?.name).toBe('pod-hbone');
  });

  it('tracks endpoints whichever arrives first (workload or service) and keeps them across service updates', () => {
    const s = new DiscoveryStore();
    s.apply({
      workloads: [workload('a', '10.0.0.1', { services: [endpointOf('default/svc.default.svc.cluster.local')] })],
    });
    expect(s.endpoints('default/svc.default.svc.cluster.local').map((e) => e.workloadUid)).toEqual([
      'Kubernetes//Pod/default/a',
    ]);
    s.apply({ services: [service('svc', '10.96.0.1')] });
    s.apply({ services: [service('svc', '10.96.0.2')] });
    expect(s.findServiceByVip('', '10.96.0.1')).toBeUndefined();
    expect(s.findServiceByVip('', '10.96.0.2')?.name).toBe('svc');
    expect(s.endpoints('default/svc.default.svc.cluster.local')).toHaveLength(1);
    expect(s.servicesOfWorkload(s.getWorkload('Kubernetes//Pod/default/a')!).map((x) => x.name)).toEqual(['svc']);
  });

  it('matches CIDR VIPs by longest prefix and prefers same-namespace then canonical services', () => {
    const s = new DiscoveryStore();
    s.apply({
      services: [
        service('wide', undefined, { cidrVips: [{ network: '', address: '10.10.0.0', prefixLength: 16 }] }),
        service('narrow', undefined, { cidrVips: [{ network: '', address: '10.10.1.0', prefixLength: 24 }] }),
        service('dup1', '10.96.0.9', { namespace: 'a' }),
        service('dup2', '10.96.0.9', { namespace: 'b', canonical: true }),
      ],
    });
    expect(s.findServiceByVip('', '10.10.1.7')?.name).toBe('narrow');
    expect(s.findServiceByVip('', '10.10.2.7')?.name).toBe('wide');
    expect(s.findServiceByVip('', '10.11.0.1')).toBeUndefined();
    expect(s.findServiceByVip('', '10.96.0.9', 'a')?.name).toBe('dup1');
    expect(s.findServiceByVip('', '10.96.0.9', 'zzz')?.name).toBe('dup2');
    expect(s.findBestServiceByHostname('dup1.default.svc.cluster.local')?.name).toBe('dup1');
  });

  it('policiesFor: namespace scope ∪ global ∪ selected keys; missing keys are skipped (facts §6.2)', () => {
    const s = new DiscoveryStore();
    s.apply({
      policies: [
        policy('default', 'ns-allow', { scope: 'NAMESPACE' }),
        policy('other', 'ns-other', { scope: 'NAMESPACE' }),
        policy('istio-system', 'global'),
        policy('default', 'selected', { scope: 'WORKLOAD_SELECTOR', action: 'DENY' }),
        policy('default', 'unselected', { scope: 'WORKLOAD_SELECTOR' }),
      ],
    });
    const w = workload('a', '10.0.0.1', { authorizationPolicies: ['default/selected', 'default/missing'] });
    expect(
      s
        .policiesFor(w)
        .map((p) => `${p.namespace}/${p.name}`)
        .sort(),
    ).toEqual(['default/ns-allow', 'default/selected', 'istio-system/global']);
    s.apply({ removePolicies: ['istio-system/global'] });
    expect(s.policiesFor(w)).toHaveLength(2);
  });

  it('applies a push atomically and tells subscribers once with the removed values', () => {
    const s = new DiscoveryStore();
    const changes: StoreChange[] = [];
    s.subscribe((c) => changes.push(c));
    s.apply({
      workloads: [workload('a', '10.0.0.1')],
      services: [service('svc', '10.96.0.1')],
      policies: [policy('default', 'p')],
    });
    s.apply({
      removeAddresses: ['Kubernetes//Pod/default/a', 'default/svc.default.svc.cluster.local', 'x/a/b', 'unknown'],
    });
    expect(changes).toHaveLength(2);
    expect(changes[0]!.policies.upserted).toHaveLength(1);
    expect(changes[1]!.workloads.removed.map((w) => w.name)).toEqual(['a']);
    expect(changes[1]!.services.removed.map((x) => x.name)).toEqual(['svc']);
    expect(s.workloadCount + s.serviceCount).toBe(0);
    expect(s.version).toBe(2);
  });

  it('exports a config-dump snapshot', () => {
    const s = new DiscoveryStore();
    s.apply({
      workloads: [workload('a', '10.0.0.1', { services: [endpointOf('default/svc.default.svc.cluster.local')] })],
      services: [service('svc', '10.96.0.1')],
    });
    const snap = JSON.parse(JSON.stringify(s.snapshot()));
    expect(snap.workloads[0]).toMatchObject({
      uid: 'Kubernetes//Pod/default/a',
      workloadIps: ['10.0.0.1'],
      services: { 'default/svc.default.svc.cluster.local': { '80': 8080 } },
    });
    expect(snap.services[0]).toMatchObject({
      hostname: 'svc.default.svc.cluster.local',
      ports: { '80': 8080 },
      endpoints: { 'Kubernetes//Pod/default/a': { status: 'Healthy', port: { '80': 8080 } } },
    });
  });
});
