// The translation must be exactly what discovery's codec and ztunnel's rules accept: every resource of
// the example mesh survives encode → decode unchanged, passes ztunnel's NACK rules, and routes as the
// example promises once loaded into discovery's store.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DiscoveryStore,
  routeOutbound,
  toService,
  toWorkload,
  validateAddress,
  validateAuthorization,
} from '@ambient-ts/discovery';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  decodeResource,
  encodeResource,
  type security,
  type workload,
} from '@ambient-ts/istio-api';
import { fromXdsAuthorization } from '@ambient-ts/policy';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../src/load/yaml-source.ts';
import { L7_TYPE_URL } from '../src/translate/l7.ts';
import { translate } from '../src/translate/translate.ts';

const file = resolve(import.meta.dirname, '../../../examples/mesh.yaml');
const mesh = translate(parseYaml(readFileSync(file, 'utf8'), 'examples/mesh.yaml').objects);

describe('examples/mesh.yaml through discovery', () => {
  it('translates without problems', () => {
    expect(mesh.problems).toEqual([]);
  });

  it('every Address, Authorization and L7 object round-trips through the protobuf codec unchanged and passes validation', () => {
    for (const { name, resource } of mesh.addresses) {
      const bytes = encodeResource(ADDRESS_TYPE_URL, resource as workload.Address);
      expect(decodeResource(ADDRESS_TYPE_URL, bytes), name).toEqual(resource);
      expect(validateAddress(name, resource as workload.Address), name).toEqual([]);
    }
    for (const { name, resource } of mesh.l7) {
      expect(decodeResource(L7_TYPE_URL, encodeResource(L7_TYPE_URL, resource)), name).toEqual(resource);
    }
    for (const { name, resource } of mesh.authorizations) {
      const bytes = encodeResource(AUTHORIZATION_TYPE_URL, resource as security.Authorization);
      expect(decodeResource(AUTHORIZATION_TYPE_URL, bytes), name).toEqual(resource);
      expect(validateAuthorization(name, resource as security.Authorization), name).toEqual([]);
    }
  });

  it('routes like the example says: VIP of echo via the waypoint, echo-v1 directly, outside pod as TCP, unknown as passthrough', () => {
    const store = new DiscoveryStore();
    const workloads = mesh.addresses.flatMap((a) =>
      'workload' in a.resource ? [toWorkload(a.resource.workload as never)] : [],
    );
    const services = mesh.addresses.flatMap((a) =>
      'service' in a.resource ? [toService(a.resource.service as never)] : [],
    );
    const policies = mesh.authorizations.map((a) => {
      const result = fromXdsAuthorization(a.resource);
      if (!result.ok) throw new Error(result.message);
      return result.policy;
    });
    store.apply({ workloads, services, policies });
    const client = store.getWorkload('Kubernetes//Pod/default/client');
    expect(client).toBeDefined();

    const viaWaypoint = routeOutbound(store, { source: client, destination: { ip: '127.10.0.1', port: 80 } });
    expect(viaWaypoint).toMatchObject({
      kind: 'hbone',
      reason: 'service-waypoint',
      target: { kind: 'ip', ip: '127.0.2.10', port: 15008 },
      authority: '127.10.0.1:80',
    });
    expect(viaWaypoint.kind === 'hbone' && viaWaypoint.expectedIdentities).toContain(
      'spiffe://cluster.local/ns/default/sa/waypoint',
    );

    expect(routeOutbound(store, { source: client, destination: { ip: '127.10.0.2', port: 80 } })).toMatchObject({
      kind: 'hbone',
      reason: 'direct',
      target: { kind: 'ip', ip: '127.0.1.1', port: 15008 },
      authority: '127.0.1.1:8080',
    });
    expect(routeOutbound(store, { source: client, destination: { ip: '127.0.2.2', port: 80 } })).toMatchObject({
      kind: 'tcp',
    });
    expect(routeOutbound(store, { source: client, destination: { ip: '192.0.2.1', port: 80 } })).toMatchObject({
      kind: 'passthrough',
    });
  });

  it('the deny-blocked policy reaches the echo workloads', () => {
    const echo = mesh.addresses.find((a) => a.name === 'Kubernetes//Pod/default/echo-v1')!.resource as {
      workload: Record<string, unknown>;
    };
    expect(echo.workload['authorizationPolicies']).toEqual(['default/deny-blocked']);
    expect(mesh.authorizations.map((a) => a.resource)).toEqual([
      {
        name: 'deny-blocked',
        namespace: 'default',
        scope: 'WORKLOAD_SELECTOR',
        action: 'DENY',
        rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'cluster.local/ns/default/sa/blocked' }] }] }] }],
      },
    ]);
  });
});
