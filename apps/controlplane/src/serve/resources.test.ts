import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@ambient-ts/istio-api';
import { ResourceCache } from '@ambient-ts/xds';
import { describe, expect, it } from 'vitest';
import { base, tx } from '../../test/support.ts';
import { L7_TYPE_URL } from '../translate/l7.ts';
import { planPush } from './resources.ts';

const policy = `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: default}
spec: {action: DENY, rules: [{}]}
`;

describe('planPush', () => {
  it('pushes everything first, nothing for the same translation, then only what changed or went', () => {
    const cache = new ResourceCache();
    const first = tx(base + policy);
    const all = planPush(cache, first);
    expect(all.changes.map((c) => c.typeUrl)).toEqual([ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL]);
    expect(all.size).toBe(first.addresses.length + 1);
    cache.update(all.updates);
    expect(cache.namesForAlias(ADDRESS_TYPE_URL, '/127.0.1.1')).toEqual(new Set(['Kubernetes//Pod/default/echo-v1']));

    expect(planPush(cache, tx(base + policy))).toEqual({ updates: [], changes: [], size: 0 });

    const moved = tx(base.replace('podIP: 127.0.2.2', 'podIP: 127.0.2.3'));
    const delta = planPush(cache, moved);
    expect(delta.changes).toEqual([
      { typeUrl: ADDRESS_TYPE_URL, upserted: ['Kubernetes//Pod/outside/plain'], removed: [] },
      { typeUrl: AUTHORIZATION_TYPE_URL, upserted: [], removed: ['default/deny-all'] },
    ]);
    const before = cache.get(ADDRESS_TYPE_URL, 'Kubernetes//Pod/outside/plain')!.version;
    cache.update(delta.updates);
    expect(cache.get(ADDRESS_TYPE_URL, 'Kubernetes//Pod/outside/plain')!.version).not.toBe(before);
    expect(cache.get(AUTHORIZATION_TYPE_URL, 'default/deny-all')).toBeUndefined();
  });

  it('serves L7 objects as google.protobuf.Struct', () => {
    const t = tx(`${base}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec: {parentRefs: [{kind: Service, name: echo}]}
`);
    const plan = planPush(new ResourceCache(), t);
    const l7 = plan.updates.find((u) => u.typeUrl === L7_TYPE_URL)!;
    expect(l7.upsert!.map((u) => u.name)).toEqual(['HTTPRoute/default/r']);
    expect('any' in l7.upsert![0]! && l7.upsert![0].any.typeUrl).toBe('type.googleapis.com/google.protobuf.Struct');
  });
});
