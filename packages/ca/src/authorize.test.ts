// Node authorization as a table: who may obtain which identity.
import { describe, expect, it } from 'vitest';
import { authorize } from './authorize.ts';
import { NodeIdentityMap } from './node-view.ts';
import type { Caller } from './tokens.ts';

const ztunnelA: Caller = {
  identity: 'spiffe://cluster.local/ns/istio-system/sa/ztunnel',
  node: 'node-a',
  mayImpersonate: true,
};
const web = 'spiffe://cluster.local/ns/default/sa/web';
const db = 'spiffe://cluster.local/ns/data/sa/db';
const view = new NodeIdentityMap().add('node-a', web).add('node-b', db).addNode('node-c');

function decide(caller: Caller, requested: string, impersonating = true) {
  const decision = authorize({ caller, requested, impersonating, trustDomain: 'cluster.local', view });
  return decision.allowed ? `allowed:${decision.basis}` : decision.code;
}

describe('authorize', () => {
  it.each([
    ['own identity', ztunnelA, ztunnelA.identity, true, 'allowed:own-identity'],
    ['own identity without impersonation', ztunnelA, ztunnelA.identity, false, 'allowed:own-identity'],
    ['a workload on its node', ztunnelA, web, true, 'allowed:workload-on-node'],
    ['a workload on another node', ztunnelA, db, true, 'DENIED_NOT_ON_NODE'],
    [
      'an identity no workload has',
      ztunnelA,
      'spiffe://cluster.local/ns/default/sa/nobody',
      true,
      'DENIED_NOT_ON_NODE',
    ],
    ['another identity without ImpersonatedIdentity', ztunnelA, web, false, 'DENIED_NOT_OWN_IDENTITY'],
    ['another trust domain', ztunnelA, 'spiffe://other.local/ns/default/sa/web', true, 'DENIED_TRUST_DOMAIN'],
    ['from a node the CA does not know', { ...ztunnelA, node: 'node-z' }, web, true, 'DENIED_UNKNOWN_NODE'],
    [
      'from a caller bound to no node',
      { identity: ztunnelA.identity, mayImpersonate: true },
      web,
      true,
      'DENIED_UNKNOWN_NODE',
    ],
    [
      'as a workload (not a node proxy)',
      { identity: db, node: 'node-a', mayImpersonate: false },
      web,
      true,
      'DENIED_NO_IMPERSONATION',
    ],
    [
      'a workload its own identity',
      { identity: db, node: 'node-b', mayImpersonate: false },
      db,
      false,
      'allowed:own-identity',
    ],
  ] as const)('%s', (_name, caller, requested, impersonating, expected) => {
    expect(decide(caller, requested, impersonating)).toBe(expected);
  });

  it('follows the view as workloads come and go (reference counted)', () => {
    const live = new NodeIdentityMap().add('n', web).add('n', web);
    const run = () =>
      authorize({
        caller: { ...ztunnelA, node: 'n' },
        requested: web,
        impersonating: true,
        trustDomain: 'cluster.local',
        view: live,
      });
    expect(run().allowed).toBe(true);
    live.remove('n', web);
    expect(run().allowed).toBe(true);
    live.remove('n', web);
    expect(run()).toMatchObject({ allowed: false, code: 'DENIED_NOT_ON_NODE' });
    live.setNode('n', [web]);
    expect(live.identitiesOnNode('n')).toEqual([web]);
    expect(run().allowed).toBe(true);
    live.deleteNode('n');
    expect(run()).toMatchObject({ allowed: false, code: 'DENIED_UNKNOWN_NODE' });
  });

  it('explains refusals', () => {
    const decision = authorize({
      caller: ztunnelA,
      requested: db,
      impersonating: true,
      trustDomain: 'cluster.local',
      view,
    });
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) {
      expect(decision.message).toBe(
        `refused to issue ${db} to ${ztunnelA.identity} on node "node-a": no workload with this identity runs on node "node-a"`,
      );
    }
  });
});
