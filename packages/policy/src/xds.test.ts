// istio.security.Authorization in proto3 JSON: validation, conversion, and istiod's translation.
import { describe, expect, it } from 'vitest';
import { b64, conn, kube, lenient } from '../test/helpers.ts';
import { evaluateL4 } from './evaluate.ts';
import { fromXdsAuthorization as convertXds, type XdsAuthorizationResult } from './xds-from.ts';
import { toXdsAuthorization, translateForZtunnel } from './xds-to.ts';

const root = { rootNamespace: 'istio-system' };

/** The converted policy of an input the test expects to be valid. */
function fromXdsAuthorization(input: unknown) {
  const result = convertXds(input);
  if (!result.ok) throw new Error(result.message);
  return result.policy;
}

function failure(input: unknown): Extract<XdsAuthorizationResult, { ok: false }> {
  const result = convertXds(input);
  if (result.ok) throw new Error('expected the conversion to fail');
  return result;
}

describe('fromXdsAuthorization', () => {
  it('converts the agreed example shape', () => {
    const policy = fromXdsAuthorization({
      name: 'p',
      namespace: 'ns',
      scope: 'NAMESPACE',
      action: 'DENY',
      rules: [
        {
          clauses: [
            {
              matches: [
                {
                  principals: [{ exact: 'cluster.local/ns/a/sa/b' }],
                  notPrincipals: [{ presence: {} }],
                  sourceIps: [{ address: 'CgAAAA==', length: 8 }],
                  destinationPorts: [8080],
                  serviceAccounts: [{ namespace: 'a', serviceAccount: 'b' }],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(policy).toMatchObject({
      key: 'ns/p',
      action: 'DENY',
      dryRun: false,
      origin: 'xds',
      attachment: { kind: 'xds', scope: 'NAMESPACE' },
    });
    const conditions = policy.rules[0]!.clauses[0]!.matches[0]!.conditions;
    expect(conditions.map((c) => `${c.negated ? '!' : ''}${c.attribute}`)).toEqual([
      'source.principal',
      '!source.principal',
      'source.serviceAccount',
      'source.ip',
      'destination.port',
    ]);
    expect(conditions[3]).toMatchObject({
      field: 'rules[0].clauses[0].matches[0].sourceIps',
      values: [{ family: 4, prefixLength: 8 }],
    });
  });

  it('applies proto3 defaults: GLOBAL, ALLOW, not dry-run, no rules', () => {
    expect(fromXdsAuthorization({ name: 'p', namespace: 'istio-system' })).toMatchObject({
      action: 'ALLOW',
      dryRun: false,
      attachment: { kind: 'xds', scope: 'GLOBAL' },
      rules: [],
    });
  });

  it('accepts enum numbers and ignores extensions', () => {
    const policy = fromXdsAuthorization({
      name: 'p',
      namespace: 'n',
      scope: 2,
      action: 1,
      extensions: [{ name: 'x' }],
      rules: [{ clauses: [{ matches: [{ extensions: [] }] }] }],
    });
    expect(policy).toMatchObject({ action: 'DENY', attachment: { scope: 'WORKLOAD_SELECTOR' } });
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'p', scope: 'CLUSTER' }, 'scope'],
    [{ name: 'p', action: 'AUDIT' }, 'action'],
    [{ name: 'p', dryRun: 'yes' }, 'dryRun'],
    [{ name: 'p', bogus: 1 }, 'bogus'],
    [
      { name: 'p', rules: [{ clauses: [{ matches: [{ principals: [{}] }] }] }] },
      'rules[0].clauses[0].matches[0].principals[0]',
    ],
    [
      { name: 'p', rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'a', prefix: 'b' }] }] }] }] },
      'rules[0].clauses[0].matches[0].principals[0]',
    ],
    [
      { name: 'p', rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: b64(1, 2, 3), length: 8 }] }] }] }] },
      'sourceIps[0].address',
    ],
    [
      { name: 'p', rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: b64(10, 0, 0, 0), length: 33 }] }] }] }] },
      'sourceIps[0].length',
    ],
    [{ name: 'p', rules: [{ clauses: [{ matches: [{ destinationPorts: [70000] }] }] }] }, 'destinationPorts[0]'],
    [{ name: 'p', rules: [{ clauses: [{ matches: [{ trustDomains: [] }] }] }] }, 'matches[0].trustDomains'],
    [{ name: 'p', rules: 'x' }, 'rules'],
  ])('rejects %j at %s, naming the policy, without throwing', (input, field) => {
    const result = failure({ namespace: 'ns', ...input });
    expect(result.message).toMatch(/^istio\.security\.Authorization ns\//);
    expect(result.message).toContain(field);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.field).toContain(field);
    expect(result.problems[0]).toMatchObject({ severity: 'error', policy: expect.stringMatching(/^ns\//) });
    expect(result.failClosed.problems).toEqual(result.problems);
  });

  it('gives a DENY that cannot be understood as a deny of everything it can select', () => {
    const result = failure({
      name: 'd',
      namespace: 'ns',
      scope: 'WORKLOAD_SELECTOR',
      action: 'DENY',
      rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: b64(10, 0, 0), length: 8 }] }] }] }],
    });
    expect(result.problems[0]!.field).toBe('rules[0].clauses[0].matches[0].sourceIps[0].address');
    expect(result.problems[0]!.effect).toMatch(/DENY of every connection/);
    expect(result.failClosed).toMatchObject({
      key: 'ns/d',
      action: 'DENY',
      dryRun: false,
      attachment: { kind: 'xds', scope: 'WORKLOAD_SELECTOR' },
    });
    // it matches any connection, from anyone to any port
    for (const c of [
      conn(),
      conn({ sourceIp: '192.168.1.1', destinationPort: 1 }),
      conn({ sourceIdentity: undefined }),
    ])
      expect(evaluateL4([result.failClosed], c)).toMatchObject({ allowed: false, policy: 'ns/d' });
  });

  it('gives an ALLOW that cannot be understood as allow-nothing, an unknown scope as GLOBAL', () => {
    const result = failure({ name: 'a', namespace: 'ns', scope: 7, rules: [{}] });
    expect(result.problems[0]!.field).toBe('scope');
    expect(result.message).toMatch(/scope: unknown enum value number 7/);
    expect(result.failClosed).toMatchObject({ action: 'ALLOW', rules: [], attachment: { scope: 'GLOBAL' } });
    expect(evaluateL4([result.failClosed], conn()).allowed).toBe(false);
    // beside a valid ALLOW it takes nothing away from what that one allows
    const other = fromXdsAuthorization({ name: 'ok', namespace: 'ns', rules: [{}] });
    expect(evaluateL4([result.failClosed, other], conn()).allowed).toBe(true);
  });

  it('treats an unknown action as DENY when failing closed', () => {
    const result = failure({ name: 'x', namespace: 'ns', action: 9 });
    expect(result.problems[0]!.field).toBe('action');
    expect(result.failClosed.action).toBe('DENY');
    expect(evaluateL4([result.failClosed], conn()).allowed).toBe(false);
  });
});

describe('toXdsAuthorization (istiod translation)', () => {
  it('scope: selector → WORKLOAD_SELECTOR, selector-less → NAMESPACE, selector-less in the root namespace → GLOBAL (omitted)', () => {
    expect(toXdsAuthorization(kube({ selector: { matchLabels: { a: 'b' } }, rules: [{}] }), root)).toEqual({
      name: 'p',
      namespace: 'ns',
      scope: 'WORKLOAD_SELECTOR',
      rules: [{}],
    });
    expect(toXdsAuthorization(kube({ rules: [{}] }), root)).toEqual({
      name: 'p',
      namespace: 'ns',
      scope: 'NAMESPACE',
      rules: [{}],
    });
    expect(toXdsAuthorization(kube({ action: 'DENY', rules: [{}] }, { namespace: 'istio-system' }), root)).toEqual({
      name: 'p',
      namespace: 'istio-system',
      action: 'DENY',
      rules: [{}],
    });
  });

  it('translates every L4 field like istiod (to, from, then one clause per when)', () => {
    const policy = kube(
      {
        rules: [
          {
            from: [
              {
                source: {
                  principals: ['*', 'cluster.local/*', '*/sa/x', 'exact'],
                  notNamespaces: ['kube-system'],
                  ipBlocks: ['10.0.0.0/8', '2001:db8::1'],
                },
              },
              { source: { serviceAccounts: ['sa1', 'other/sa2'] } },
            ],
            to: [{ operation: { ports: ['8080'], notPorts: ['9090'] } }],
            when: [{ key: 'destination.ip', values: ['10.1.0.0/16'], notValues: ['10.1.1.1'] }],
          },
        ],
      },
      { namespace: 'app', annotations: { 'istio.io/dry-run': 'true' } },
    );
    expect(toXdsAuthorization(policy, root)).toEqual({
      name: 'p',
      namespace: 'app',
      scope: 'NAMESPACE',
      dryRun: true,
      rules: [
        {
          clauses: [
            { matches: [{ destinationPorts: [8080], notDestinationPorts: [9090] }] },
            {
              matches: [
                {
                  principals: [{ presence: {} }, { prefix: 'cluster.local/' }, { suffix: '/sa/x' }, { exact: 'exact' }],
                  notNamespaces: [{ exact: 'kube-system' }],
                  sourceIps: [
                    { address: 'CgAAAA==', length: 8 },
                    { address: b64(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), length: 128 },
                  ],
                },
                {
                  serviceAccounts: [
                    { namespace: 'app', serviceAccount: 'sa1' },
                    { namespace: 'other', serviceAccount: 'sa2' },
                  ],
                },
              ],
            },
            {
              matches: [
                {
                  destinationIps: [{ address: b64(10, 1, 0, 0), length: 16 }],
                  notDestinationIps: [{ address: b64(10, 1, 1, 1), length: 32 }],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it("omits ALLOW rules with HTTP attributes entirely and says so in istiod's words", () => {
    const policy = kube({
      rules: [
        { to: [{ operation: { ports: ['80'] } }, { operation: { methods: ['GET'] } }] },
        { from: [{ source: { namespaces: ['a'] } }] },
      ],
    });
    const translated = translateForZtunnel(policy, root);
    expect(translated.authorization!.rules).toEqual([{ clauses: [{ matches: [{ namespaces: [{ exact: 'a' }] }] }] }]);
    expect(translated.dropped[0]).toContain('spec.rules[0]: omitted (HTTP attributes methods');
    expect(translated.status).toEqual({
      reason: 'UnsupportedValue',
      message:
        'ztunnel does not support HTTP attributes (found: methods). In ambient mode you must use a waypoint proxy to enforce HTTP rules. ' +
        'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.',
    });
  });

  it('keeps the L4 parts of DENY rules; an L7-only part becomes an empty match', () => {
    const policy = kube({
      action: 'DENY',
      rules: [
        {
          from: [{ source: { requestPrincipals: ['*'] } }],
          to: [{ operation: { ports: ['80'], paths: ['/x'] } }],
          when: [{ key: 'request.headers[a]', values: ['b'] }],
        },
      ],
    });
    expect(toXdsAuthorization(policy, root)!.rules).toEqual([
      { clauses: [{ matches: [{ destinationPorts: [80] }] }, { matches: [{}] }, { matches: [{}] }] },
    ]);
  });

  it('sends nothing for targetRefs, AUDIT and CUSTOM policies', () => {
    expect(
      toXdsAuthorization(kube({ targetRefs: [{ kind: 'Service', group: '', name: 's' }], rules: [{}] }), root),
    ).toBeUndefined();
    const audit = translateForZtunnel(kube({ action: 'AUDIT', rules: [{}] }), root);
    expect(audit).toMatchObject({
      authorization: undefined,
      status: { message: 'ztunnel does not support the AUDIT action' },
    });
    expect(toXdsAuthorization(kube({ action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] }), root)).toBeUndefined();
  });

  it('carries the fail-safe form of broken policies (allow-nothing / deny-all)', () => {
    expect(toXdsAuthorization(lenient({ rule: [] }), root)).toEqual({ name: 'p', namespace: 'ns', scope: 'NAMESPACE' });
    expect(toXdsAuthorization(lenient({ action: 'DENY', bogus: 1 }), root)).toEqual({
      name: 'p',
      namespace: 'ns',
      scope: 'NAMESPACE',
      action: 'DENY',
      rules: [{}],
    });
  });

  it('round-trips: ztunnel decides the same on the translated form', () => {
    const policy = kube({
      rules: [
        {
          from: [{ source: { namespaces: ['default'], notIpBlocks: ['10.9.0.0/16'] } }],
          to: [{ operation: { ports: ['8080'] } }],
        },
      ],
    });
    const back = fromXdsAuthorization(JSON.parse(JSON.stringify(toXdsAuthorization(policy, root))));
    for (const connection of [
      conn(),
      conn({ destinationPort: 1 }),
      conn({ sourceIp: '10.9.1.1' }),
      conn({ sourceIdentity: undefined }),
    ]) {
      expect(evaluateL4([back], connection).allowed).toBe(evaluateL4([policy], connection).allowed);
    }
  });
});
