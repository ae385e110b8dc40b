import { describe, expect, it } from 'vitest';
import { L7Store } from './l7-store.ts';

const route = (value: string) => ({
  name: 'HTTPRoute/default/r',
  json: {
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'echo' }],
      rules: [{ matches: [{ path: { type: 'Exact', value } }] }],
    },
  },
});
const allow = (rules: unknown) => ({
  name: 'AuthorizationPolicy/default/p',
  json: {
    kind: 'AuthorizationPolicy',
    metadata: { name: 'p', namespace: 'default' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'echo' }], rules },
  },
});

describe('L7Store', () => {
  it('keeps the last good version of a rejected object', () => {
    const store = new L7Store();
    expect(store.apply([route('/good')]).rejected).toEqual([]);
    const { rejected } = store.apply([route('bad')]);
    expect(rejected).toEqual([
      {
        name: 'HTTPRoute/default/r',
        reason: 'HTTPRoute default/r: spec.rules[0].matches[0].path.value: must start with "/", found "bad"',
      },
    ]);
    expect(store.routes()[0]?.rules[0]?.matches[0]?.path.value).toBe('/good');
    expect(store.snapshot().rejected).toHaveLength(1);
    store.apply([route('/fixed')]);
    expect(store.snapshot().rejected).toHaveLength(0);
  });

  it('enforces the fail-safe reading of a broken policy it never had a good version of', () => {
    const store = new L7Store();
    const { rejected } = store.apply([allow('oops')]);
    expect(rejected[0]?.reason).toMatch(/^AuthorizationPolicy default\/p: spec\.rules: /);
    expect(store.authorizationPolicies()[0]).toMatchObject({ action: 'ALLOW', rules: [] });
    expect(store.snapshot().objects[0]).toMatchObject({ failSafe: true });
  });

  it('keeps a good policy over a later broken one', () => {
    const store = new L7Store();
    store.apply([allow([{}])]);
    store.apply([allow('oops')]);
    expect(store.authorizationPolicies()[0]?.rules).toHaveLength(1);
  });

  it('removes objects and rejects unknown kinds', () => {
    const store = new L7Store();
    store.apply([route('/a')]);
    store.apply([], ['HTTPRoute/default/r']);
    expect(store.routes()).toEqual([]);
    expect(store.apply([{ name: 'X/default/x', json: { kind: 'Sidecar' } }]).rejected[0]?.reason).toContain(
      'unsupported kind "Sidecar"',
    );
    expect(store.apply([{ name: 'X/default/y', json: 'text' }]).rejected[0]?.reason).toContain(
      'expected a Kubernetes object',
    );
  });

  it('reads waypoint Gateways', () => {
    const store = new L7Store();
    store.apply([
      {
        name: 'Gateway/default/waypoint',
        json: {
          kind: 'Gateway',
          metadata: { name: 'waypoint', namespace: 'default', labels: { 'istio.io/waypoint-for': 'all' } },
          spec: { gatewayClassName: 'istio-waypoint' },
        },
      },
    ]);
    expect(store.gateway('default', 'waypoint')).toMatchObject({
      gatewayClassName: 'istio-waypoint',
      trafficType: 'all',
    });
    const bad = store.apply([
      {
        name: 'Gateway/default/w2',
        json: { kind: 'Gateway', metadata: { name: 'w2', namespace: 'default' }, spec: {} },
      },
    ]);
    expect(bad.rejected[0]?.reason).toBe('Gateway default/w2: spec.gatewayClassName: is required');
  });
});
