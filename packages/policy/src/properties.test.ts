// Property tests (fast-check): not-variant symmetry, prefix/suffix matching, the xDS round trip,
// fail-safe loading, and evaluators that never throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conn, kube, lenient, req } from '../test/helpers.ts';
import { evaluateL4, evaluateL7 } from './evaluate.ts';
import { loadAuthorizationPolicy } from './kube-policy.ts';
import type { RequestAttributes } from './attributes.ts';
import { fromXdsAuthorization } from './xds-from.ts';
import { toXdsAuthorization } from './xds-to.ts';

const runs = { numRuns: 300 };

function converted(input: unknown) {
  const result = fromXdsAuthorization(input);
  if (!result.ok) throw new Error(result.message);
  return result.policy;
}

// A small universe so that generated policies and requests often meet.
const namespaces = ['a', 'b', 'ab'];
const identity = fc.option(
  fc
    .tuple(fc.constantFrom(...namespaces), fc.constantFrom('x', 'y'))
    .map(([ns, sa]) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`),
  { nil: undefined },
);
const ip = fc.constantFrom('10.0.0.1', '10.1.0.1', '192.168.0.1', '2001:db8::1');
const port = fc.constantFrom(80, 8080, 9090);
const method = fc.constantFrom('GET', 'POST', 'get', 'Delete');
const path = fc.constantFrom('/a', '/b/c', '/admin', '/b/c/d', '/a?q=1');
const header = fc.option(fc.constantFrom('v1', 'v2', 'v12', ''), { nil: undefined });

const request = fc
  .record({ sourceIdentity: identity, sourceIp: ip, destinationPort: port, method, path, x: header })
  .map(({ x, ...rest }): RequestAttributes => req({ ...rest, headers: x === undefined ? {} : { 'x-h': x } }));

const pattern = (values: string[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 });
const fieldValues = {
  principals: pattern(['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/*', '*/sa/y', '*']),
  namespaces: pattern(['a', 'b', 'a*', '*b', '*']),
  ipBlocks: pattern(['10.0.0.0/8', '192.168.0.1', '10.1.0.0/16', '2001:db8::/32', '0.0.0.0/0']),
  ports: pattern(['80', '8080', '443']),
  methods: pattern(['GET', 'POST', 'PUT']),
  paths: pattern(['/a', '/b/*', '*min', '/b/{*}', '/b/{**}', '*']),
};
type FieldName = keyof typeof fieldValues;
const sourceFields: FieldName[] = ['principals', 'namespaces', 'ipBlocks'];

function specFor(field: FieldName, negated: boolean, values: string[]): Record<string, unknown> {
  const key = negated ? `not${field[0]!.toUpperCase()}${field.slice(1)}` : field;
  return sourceFields.includes(field)
    ? { from: [{ source: { [key]: values } }] }
    : { to: [{ operation: { [key]: values } }] };
}

describe('not-variant symmetry', () => {
  it('for every field, exactly one of X and notX matches a request that has the attribute', () => {
    const field = fc.constantFrom(...(Object.keys(fieldValues) as FieldName[]));
    fc.assert(
      fc.property(
        field.chain((name) => fc.tuple(fc.constant(name), fieldValues[name])),
        request,
        ([name, values], r) => {
          if ((name === 'principals' || name === 'namespaces') && r.sourceIdentity === undefined) return;
          const positive = evaluateL7([kube({ rules: [specFor(name, false, values)] })], r).allowed;
          const negative = evaluateL7([kube({ rules: [specFor(name, true, values)] })], r).allowed;
          expect(positive).not.toBe(negative);
        },
      ),
      runs,
    );
  });

  it('without an identity, identity conditions never match and their not-variants always do', () => {
    fc.assert(
      fc.property(fc.constantFrom<FieldName>('principals', 'namespaces'), request, (name, r) => {
        const anonymous = { ...r, sourceIdentity: undefined };
        const values = ['*'];
        expect(evaluateL7([kube({ rules: [specFor(name, false, values)] })], anonymous).allowed).toBe(false);
        expect(evaluateL7([kube({ rules: [specFor(name, true, values)] })], anonymous).allowed).toBe(true);
      }),
      runs,
    );
  });

  it('header values and notValues are complementary when the header is present, and `when` is symmetric at L4 too', () => {
    fc.assert(
      fc.property(pattern(['v1', 'v*', '*2', '*']), request, fc.constantFrom(80, 8080, 9090), (values, r, p) => {
        const when = (negated: boolean) =>
          kube({ rules: [{ when: [{ key: 'request.headers[x-h]', [negated ? 'notValues' : 'values']: values }] }] });
        const present = { ...r, headers: { 'x-h': 'v12' } };
        expect(evaluateL7([when(false)], present).allowed).not.toBe(evaluateL7([when(true)], present).allowed);
        const portWhen = (negated: boolean) =>
          kube({ rules: [{ when: [{ key: 'destination.port', [negated ? 'notValues' : 'values']: ['8080'] }] }] });
        const c = conn({ destinationPort: p });
        expect(evaluateL4([portWhen(false)], c).allowed).not.toBe(evaluateL4([portWhen(true)], c).allowed);
      }),
      runs,
    );
  });
});

describe('prefix and suffix matching', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '-'), maxLength: 8 });

  it('`p*` matches exactly the values starting with p, `*s` those ending with s', () => {
    fc.assert(
      fc.property(
        text.filter((s) => s.length > 0 && !s.startsWith('*')),
        text,
        (affix, value) => {
          const header = (pattern: string) =>
            kube({ rules: [{ when: [{ key: 'request.headers[x-h]', values: [pattern] }] }] });
          const r = req({ headers: { 'x-h': value } });
          expect(evaluateL7([header(`${affix}*`)], r).allowed).toBe(value.startsWith(affix));
          expect(evaluateL7([header(`*${affix}`)], r).allowed).toBe(value.endsWith(affix));
          expect(evaluateL7([header(affix)], r).allowed).toBe(value === affix);
        },
      ),
      runs,
    );
  });

  it('ztunnel principals: prefix/suffix over the identity without spiffe://', () => {
    fc.assert(
      fc.property(
        text.filter((s) => s.length > 0),
        identity,
        (affix, id) => {
          const principal = id?.slice('spiffe://'.length);
          const policy = (m: Record<string, string>) =>
            converted({
              name: 'p',
              namespace: 'n',
              rules: [{ clauses: [{ matches: [{ principals: [m] }] }] }],
            });
          const c = conn({ sourceIdentity: id });
          expect(evaluateL4([policy({ prefix: affix })], c).allowed).toBe(
            principal !== undefined && principal.startsWith(affix),
          );
          expect(evaluateL4([policy({ suffix: affix })], c).allowed).toBe(
            principal !== undefined && principal.endsWith(affix),
          );
        },
      ),
      runs,
    );
  });
});

// Random L4-expressible rules (plus some HTTP parts, which ztunnel handles as istiod translates them).
const l4Rule = fc.record(
  {
    from: fc.array(
      fc
        .record({
          source: fc.record(
            {
              principals: fieldValues.principals,
              notNamespaces: fieldValues.namespaces,
              ipBlocks: fieldValues.ipBlocks,
            },
            { requiredKeys: [] },
          ),
        })
        .filter((entry) => Object.keys(entry.source).length > 0),
      { minLength: 1, maxLength: 2 },
    ),
    to: fc.array(
      fc
        .record({
          operation: fc.record({ ports: fieldValues.ports, methods: fieldValues.methods }, { requiredKeys: [] }),
        })
        .filter((entry) => Object.keys(entry.operation).length > 0),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
  },
  { requiredKeys: [] },
);
const policySpec = fc.record({ action: fc.constantFrom('ALLOW', 'DENY'), rules: fc.array(l4Rule, { maxLength: 3 }) });
const connection = fc.record({ sourceIdentity: identity, sourceIp: ip, destinationPort: port }).map((c) => conn(c));

describe('xDS round trip', () => {
  it('ztunnel decides the same on a policy and on its translated, re-parsed xDS form', () => {
    fc.assert(
      fc.property(fc.array(policySpec, { minLength: 1, maxLength: 3 }), connection, (specs, c) => {
        const policies = specs.map((spec, i) => kube(spec, { name: `p${i}` }));
        const translated = policies.map((policy) =>
          converted(JSON.parse(JSON.stringify(toXdsAuthorization(policy, { rootNamespace: 'istio-system' })))),
        );
        for (const emptyDenyMatch of ['match', 'never-match'] as const) {
          expect(evaluateL4(translated, c, { emptyDenyMatch })).toMatchObject({
            allowed: evaluateL4(policies, c, { emptyDenyMatch }).allowed,
            reason: evaluateL4(policies, c, { emptyDenyMatch }).reason,
          });
        }
      }),
      runs,
    );
  });
});

describe('fail-safe loading', () => {
  const badValues: Record<FieldName, string> = {
    principals: '',
    namespaces: '',
    ipBlocks: '10.0.0.999',
    ports: 'http',
    methods: '',
    paths: '/a/{x}',
  };
  const validPools: Record<FieldName, string[]> = {
    principals: ['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/*', '*'],
    namespaces: ['a', 'b', '*'],
    ipBlocks: ['10.0.0.0/8', '192.168.0.1', '0.0.0.0/0'],
    ports: ['80', '8080'],
    methods: ['GET', 'POST'],
    paths: ['/a', '/b/*', '*'],
  };
  // A field of the extra rule, its other values, where the bad value sits, and one valid value it may have meant.
  const hole = fc.constantFrom(...(Object.keys(fieldValues) as FieldName[])).chain((field) =>
    fc.record({
      field: fc.constant(field),
      negated: fc.boolean(),
      values: fieldValues[field],
      at: fc.nat(3),
      meant: fc.constantFrom(...validPools[field]),
    }),
  );

  // Loading must never be wider than any meaning the author may have had (ALLOW: never allow more;
  // DENY: never deny less), whatever else applies.
  it('a broken policy never allows what an intended reading of it would deny', () => {
    fc.assert(
      fc.property(policySpec, hole, request, (spec, h, r) => {
        const build = (value: string) => {
          const values = [...h.values];
          values.splice(h.at % (values.length + 1), 0, value);
          return { ...spec, rules: [...spec.rules, specFor(h.field, h.negated, values)] };
        };
        const others = [kube({ rules: [{ from: [{ source: { namespaces: ['a'] } }] }] }, { name: 'base' })];
        const broken = lenient(build(badValues[h.field]), 'subject');
        expect(broken.problems.some((problem) => problem.severity === 'error')).toBe(true);
        const intended = kube(build(h.meant), { name: 'subject' });
        if (evaluateL7([...others, broken], r).allowed) expect(evaluateL7([...others, intended], r).allowed).toBe(true);
        if (evaluateL7([broken], r).allowed) expect(evaluateL7([intended], r).allowed).toBe(true);
      }),
      runs,
    );
  });

  it('a refused Authorization fails closed: its stand-in allows no connection on its own', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            name: fc.oneof(fc.constant('p'), fc.anything()),
            namespace: fc.oneof(fc.constant('n'), fc.anything()),
            scope: fc.oneof(fc.constantFrom('GLOBAL', 'NAMESPACE', 'WORKLOAD_SELECTOR', 5), fc.anything()),
            action: fc.oneof(fc.constantFrom('ALLOW', 'DENY', 1, 7), fc.anything()),
            rules: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        connection,
        (input, c) => {
          const result = fromXdsAuthorization(input);
          if (result.ok) return;
          expect(result.failClosed.problems.length).toBeGreaterThan(0);
          expect(evaluateL4([result.failClosed], c).allowed).toBe(false);
        },
      ),
      runs,
    );
  });

  it('loaders and evaluators never throw', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (input, attributes) => {
        const { policy } = loadAuthorizationPolicy(input);
        const loose = attributes as RequestAttributes;
        expect(typeof evaluateL7([policy], loose).allowed).toBe('boolean');
        expect(typeof evaluateL4([policy], loose as never).allowed).toBe('boolean');
        const result = fromXdsAuthorization(input);
        // never throws; a failure names a field and fails closed
        if (!result.ok) expect(result.failClosed.problems[0]!.field).not.toBe('');
      }),
      runs,
    );
  });
});
