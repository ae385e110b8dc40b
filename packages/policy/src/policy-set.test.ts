// The guards and the index may only skip policies that cannot match: checked against the unguarded
// evaluation on random policies and requests, including attributes that cannot be evaluated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kube, req, xds } from '../test/helpers.ts';
import { prepareRequest, type RequestAttributes } from './attributes.ts';
import { evalPolicy, planFor } from './engine.ts';
import { evaluateL4, evaluateL7, explainL4, explainL7 } from './evaluate.ts';
import type { AuthorizationPolicy } from './model.ts';
import { admits, candidates, indexedSetFor, policyGuard, requestKeys } from './policy-set.ts';

const principal = fc.constantFrom('cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y', 'cluster.local/ns/a/*', '*');
const namespace = fc.constantFrom('a', 'b', 'a*');
const values = <T>(arb: fc.Arbitrary<T>) => fc.uniqueArray(arb, { minLength: 1, maxLength: 2 });
const source = fc.record(
  {
    principals: values(principal),
    notPrincipals: values(principal),
    namespaces: values(namespace),
    ipBlocks: values(fc.constantFrom('10.0.0.0/8', '192.168.0.1')),
  },
  { requiredKeys: [] },
);
const operation = fc.record(
  {
    ports: values(fc.constantFrom('80', '8080')),
    notPorts: values(fc.constantFrom('80')),
    methods: values(fc.constantFrom('GET', 'POST')),
    paths: values(fc.constantFrom('/a', '/b*')),
  },
  { requiredKeys: [] },
);
const rule = fc.record(
  {
    from: fc.array(
      fc.record({ source }).filter((e) => Object.keys(e.source).length > 0),
      { minLength: 1, maxLength: 2 },
    ),
    to: fc.array(
      fc.record({ operation }).filter((e) => Object.keys(e.operation).length > 0),
      { minLength: 1, maxLength: 2 },
    ),
    when: fc.array(
      fc.constantFrom({ key: 'request.headers[x]', values: ['1'] }, { key: 'destination.port', notValues: ['9090'] }),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: [] },
);
const kubePolicy = fc
  .record({
    action: fc.constantFrom('ALLOW', 'DENY', 'AUDIT'),
    rules: fc.array(rule, { maxLength: 3 }),
    dryRun: fc.boolean(),
  })
  .map(({ dryRun, ...spec }) => ({ spec, dryRun }));
const xdsPolicy = fc.record({
  action: fc.constantFrom('ALLOW', 'DENY'),
  port: fc.constantFrom(80, 8080),
  principal: fc.constantFrom('cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y'),
  empty: fc.boolean(),
});

function build(
  kubes: { spec: Record<string, unknown>; dryRun: boolean }[],
  xdses: { action: string; port: number; principal: string; empty: boolean }[],
): AuthorizationPolicy[] {
  const out: AuthorizationPolicy[] = kubes.map(({ spec, dryRun }, i) =>
    kube(spec, { name: `k${i}`, ...(dryRun && { annotations: { 'istio.io/dry-run': 'true' } }) }),
  );
  xdses.forEach(({ action, port, principal: p, empty }, i) => {
    const match = empty ? {} : { principals: [{ exact: p }] };
    out.push(
      xds({
        name: `x${i}`,
        action,
        rules: [{ clauses: [{ matches: [{ destinationPorts: [port] }] }, { matches: [match] }] }],
      }),
    );
  });
  return out;
}

const request = fc
  .record({
    sourceIdentity: fc.constantFrom(
      undefined,
      'spiffe://cluster.local/ns/a/sa/x',
      'spiffe://cluster.local/ns/b/sa/y',
      'bogus-identity',
    ),
    method: fc.constantFrom('GET', 'post', 'BAD METHOD', undefined),
    path: fc.constantFrom('/a', '/b/c', '/%zz', undefined),
    destinationPort: fc.constantFrom(80, 8080, 9090, 70000),
    sourceIp: fc.constantFrom('10.1.1.1', '192.168.0.1', 'not-an-ip'),
    header: fc.constantFrom(undefined, '1', '2'),
    protocol: fc.constantFrom('http' as const, 'tcp' as const),
  })
  .map(({ header, ...rest }): RequestAttributes =>
    req({ ...rest, headers: header === undefined ? {} : { x: header } }),
  );

describe('guards and the index are sound', () => {
  it('a policy that matches is always admitted by its guard and listed by the index', () => {
    fc.assert(
      fc.property(
        fc.array(kubePolicy, { minLength: 32, maxLength: 40 }),
        fc.array(xdsPolicy, { maxLength: 10 }),
        request,
        (kubes, xdses, r) => {
          const policies = build(kubes, xdses);
          const prepared = prepareRequest(r);
          const keys = requestKeys(prepared);
          for (const layer of ['l4', 'l7'] as const) {
            const tcp = layer === 'l4' || prepared.protocol === 'tcp';
            for (const emptyDenyMatch of ['match', 'never-match'] as const) {
              indexedSetFor(policies, layer, tcp, { emptyDenyMatch }); // first sighting
              const set = indexedSetFor(policies, layer, tcp, { emptyDenyMatch })!;
              const listed = new Set(candidates(set, prepared));
              policies.forEach((policy, index) => {
                const plan = planFor(policy, layer, tcp, { emptyDenyMatch });
                if (!evalPolicy(policy, prepared, plan).matched) return;
                expect(admits(policyGuard(policy, plan), keys)).toBe(true);
                if (set.applicable[index]) expect(listed.has(index)).toBe(true);
              });
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an indexed list decides exactly like a scanned one', () => {
    fc.assert(
      fc.property(
        fc.array(kubePolicy, { minLength: 32, maxLength: 40 }),
        fc.array(xdsPolicy, { maxLength: 8 }),
        fc.array(request, { minLength: 1, maxLength: 5 }),
        (kubes, xdses, requests) => {
          const policies = build(kubes, xdses);
          for (const r of requests) {
            const scanned = evaluateL7([...policies], r);
            evaluateL7(policies, r);
            expect(evaluateL7(policies, r)).toEqual(scanned);
            const connection = {
              sourceIp: r.sourceIp!,
              sourceIdentity: r.sourceIdentity,
              destinationIp: '10.0.0.2',
              destinationPort: r.destinationPort!,
            };
            const scannedL4 = evaluateL4([...policies], connection);
            evaluateL4(policies, connection);
            expect(evaluateL4(policies, connection)).toEqual(scannedL4);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('explanations agree with decisions (traced and compiled evaluation are the same logic)', () => {
    fc.assert(
      fc.property(
        fc.array(kubePolicy, { minLength: 1, maxLength: 6 }),
        fc.array(xdsPolicy, { maxLength: 3 }),
        request,
        (kubes, xdses, r) => {
          const policies = build(kubes, xdses);
          const connection = {
            sourceIp: r.sourceIp!,
            sourceIdentity: r.sourceIdentity,
            destinationIp: '10.0.0.2',
            destinationPort: r.destinationPort!,
          };
          for (const explanation of [explainL7(policies, r), explainL4(policies, connection)]) {
            for (const trace of explanation.policies) {
              if (trace.outcome === 'not-applicable') continue;
              const first = trace.rules.find((rule) => rule.outcome === 'match');
              const unknown = trace.rules.find((rule) => rule.outcome === 'unknown');
              if (first) expect(trace).toMatchObject({ outcome: 'matched', rule: first.rule });
              else if (unknown && trace.action !== 'ALLOW')
                expect(trace).toMatchObject({ outcome: 'matched', rule: unknown.rule });
              else expect(trace.outcome).toBe('not-matched');
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rebuilds the index when the caller changes the array', () => {
    const policies = Array.from({ length: 40 }, (_, i) =>
      kube({ rules: [{ from: [{ source: { principals: [`cluster.local/ns/n${i}/sa/x`] } }] }] }, { name: `p${i}` }),
    );
    const r = req({ sourceIdentity: 'spiffe://cluster.local/ns/late/sa/x' });
    evaluateL7(policies, r);
    expect(evaluateL7(policies, r).allowed).toBe(false);
    policies.push(
      kube({ rules: [{ from: [{ source: { principals: ['cluster.local/ns/late/sa/x'] } }] }] }, { name: 'late' }),
    );
    expect(evaluateL7(policies, r)).toMatchObject({ allowed: true, policy: 'ns/late' });
    policies[40] = kube({ rules: [] }, { name: 'late' });
    expect(evaluateL7(policies, r).allowed).toBe(false);
  });
});
