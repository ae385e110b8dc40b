// ztunnel's L4 semantics (ztunnel-facts.md §6, §12 items 9-12), table-driven.
import { describe, expect, it } from 'vitest';
import { b64, conn, kube, SLEEP, xds } from '../test/helpers.ts';
import { evaluateL4, explainL4 } from './evaluate.ts';
import type { AuthorizationPolicy } from './model.ts';

const allow = (rules: unknown[], extra: Record<string, unknown> = {}) => xds({ name: 'allow', rules, ...extra });
const deny = (rules: unknown[], extra: Record<string, unknown> = {}) =>
  xds({ name: 'deny', action: 'DENY', rules, ...extra });
const match = (m: Record<string, unknown>) => [{ clauses: [{ matches: [m] }] }];

interface Case {
  name: string;
  policies: AuthorizationPolicy[];
  connection?: Parameters<typeof conn>[0];
  allowed: boolean;
  reason?: string;
}

const cases: Case[] = [
  { name: 'no policies: allowed by default', policies: [], allowed: true, reason: 'no allow policies apply' },
  {
    name: 'ALLOW without rules never matches (allow-nothing)',
    policies: [allow([])],
    allowed: false,
    reason: 'allow policies exist, but none allowed',
  },
  {
    name: 'a rule without clauses matches everything',
    policies: [allow([{}])],
    allowed: true,
    reason: 'allowed by: ns/allow',
  },
  { name: 'a clause without matches matches', policies: [allow([{ clauses: [{}] }])], allowed: true },
  { name: 'a match with every field empty never matches', policies: [allow(match({}))], allowed: false },
  {
    name: 'principals compare without spiffe://',
    policies: [allow(match({ principals: [{ exact: 'cluster.local/ns/default/sa/sleep' }] }))],
    allowed: true,
  },
  {
    name: 'a principal written with spiffe:// never matches',
    policies: [allow(match({ principals: [{ exact: SLEEP }] }))],
    allowed: false,
  },
  {
    name: 'principal presence needs an identity',
    policies: [allow(match({ principals: [{ presence: {} }] }))],
    allowed: true,
  },
  {
    name: 'plaintext never matches an identity condition',
    policies: [allow(match({ principals: [{ presence: {} }] }))],
    connection: { sourceIdentity: undefined },
    allowed: false,
  },
  {
    name: 'plaintext matches a negative identity condition (STRICT mTLS as a DENY)',
    policies: [deny(match({ notPrincipals: [{ presence: {} }] }), { name: 'istio_converted_static_strict' })],
    connection: { sourceIdentity: undefined },
    allowed: false,
    reason: 'explicitly denied by: ns/istio_converted_static_strict',
  },
  {
    name: 'STRICT DENY lets mTLS through',
    policies: [deny(match({ notPrincipals: [{ presence: {} }] }))],
    allowed: true,
  },
  {
    name: 'principal prefix',
    policies: [allow(match({ principals: [{ prefix: 'cluster.local/ns/default/' }] }))],
    allowed: true,
  },
  { name: 'principal suffix', policies: [allow(match({ principals: [{ suffix: '/sa/sleep' }] }))], allowed: true },
  { name: 'namespace exact', policies: [allow(match({ namespaces: [{ exact: 'default' }] }))], allowed: true },
  { name: 'namespace prefix miss', policies: [allow(match({ namespaces: [{ prefix: 'prod-' }] }))], allowed: false },
  { name: 'notNamespaces', policies: [allow(match({ notNamespaces: [{ exact: 'default' }] }))], allowed: false },
  {
    name: 'plaintext: notNamespaces matches',
    policies: [allow(match({ notNamespaces: [{ exact: 'default' }] }))],
    connection: { sourceIdentity: undefined },
    allowed: true,
  },
  {
    name: 'service accounts ignore the trust domain',
    policies: [allow(match({ serviceAccounts: [{ namespace: 'default', serviceAccount: 'sleep' }] }))],
    connection: { sourceIdentity: 'spiffe://other.domain/ns/default/sa/sleep' },
    allowed: true,
  },
  {
    name: 'service account namespace must match',
    policies: [allow(match({ serviceAccounts: [{ namespace: 'other', serviceAccount: 'sleep' }] }))],
    allowed: false,
  },
  {
    name: 'plaintext never matches service accounts',
    policies: [allow(match({ serviceAccounts: [{ namespace: 'default', serviceAccount: 'sleep' }] }))],
    connection: { sourceIdentity: undefined },
    allowed: false,
  },
  {
    name: 'source CIDR v4',
    policies: [allow(match({ sourceIps: [{ address: b64(10, 0, 0, 0), length: 8 }] }))],
    allowed: true,
  },
  {
    name: 'IPv4-mapped source address',
    policies: [allow(match({ sourceIps: [{ address: b64(10, 0, 0, 0), length: 8 }] }))],
    connection: { sourceIp: '::ffff:10.9.9.9' },
    allowed: true,
  },
  {
    name: 'source CIDR v6',
    policies: [
      allow(
        match({
          sourceIps: [{ address: b64(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), length: 32 }],
        }),
      ),
    ],
    connection: { sourceIp: '2001:db8::5' },
    allowed: true,
  },
  {
    name: 'notSourceIps',
    policies: [allow(match({ notSourceIps: [{ address: b64(10, 0, 0, 1), length: 32 }] }))],
    allowed: false,
  },
  {
    name: 'destination IP',
    policies: [allow(match({ destinationIps: [{ address: b64(10, 0, 0, 2), length: 32 }] }))],
    allowed: true,
  },
  {
    name: 'destination port is the resolved container port',
    policies: [allow(match({ destinationPorts: [8080] }))],
    allowed: true,
  },
  {
    name: 'service port or 15008 does not match',
    policies: [allow(match({ destinationPorts: [80, 15008] }))],
    allowed: false,
  },
  { name: 'notDestinationPorts', policies: [allow(match({ notDestinationPorts: [8080] }))], allowed: false },
  {
    name: 'fields within a match are ANDed',
    policies: [allow(match({ namespaces: [{ exact: 'default' }], destinationPorts: [9090] }))],
    allowed: false,
  },
  {
    name: 'matches within a clause are ORed',
    policies: [
      allow([{ clauses: [{ matches: [{ destinationPorts: [9090] }, { namespaces: [{ exact: 'default' }] }] }] }]),
    ],
    allowed: true,
  },
  {
    name: 'clauses within a rule are ANDed',
    policies: [
      allow([
        {
          clauses: [{ matches: [{ destinationPorts: [9090] }] }, { matches: [{ namespaces: [{ exact: 'default' }] }] }],
        },
      ]),
    ],
    allowed: false,
  },
  {
    name: 'any rule matching is enough',
    policies: [allow([...match({ destinationPorts: [9090] }), ...match({ destinationPorts: [8080] })])],
    allowed: true,
  },
  {
    name: 'DENY wins over ALLOW',
    policies: [allow([{}]), deny(match({ namespaces: [{ exact: 'default' }] }))],
    allowed: false,
    reason: 'explicitly denied by: ns/deny',
  },
  {
    name: 'a non-matching DENY leaves the ALLOW decision',
    policies: [allow([{}]), deny(match({ namespaces: [{ exact: 'other' }] }))],
    allowed: true,
  },
  {
    name: 'a DENY alone does not make ALLOW policies exist',
    policies: [deny(match({ namespaces: [{ exact: 'other' }] }))],
    allowed: true,
    reason: 'no allow policies apply',
  },
  {
    name: 'dry-run DENY is not enforced',
    policies: [deny(match({ namespaces: [{ exact: 'default' }] }), { dryRun: true })],
    allowed: true,
  },
  {
    name: 'a dry-run ALLOW does not count as an existing ALLOW',
    policies: [allow([], { dryRun: true })],
    allowed: true,
    reason: 'no allow policies apply',
  },
];

describe('evaluateL4 (ztunnel)', () => {
  it.each(cases)('$name', ({ policies, connection, allowed, reason }) => {
    const decision = evaluateL4(policies, conn(connection));
    expect(decision.allowed).toBe(allowed);
    expect(decision.verdict).toBe(allowed ? 'allow' : 'deny');
    if (reason) expect(decision.reason).toBe(reason);
  });

  it('reports dry-run matches and what enforcing them would do', () => {
    const decision = evaluateL4(
      [deny(match({ namespaces: [{ exact: 'default' }] }), { dryRun: true, name: 'shadow' })],
      conn(),
    );
    expect(decision.allowed).toBe(true);
    expect(decision.dryRun).toEqual([{ policy: 'ns/shadow', action: 'DENY', rule: 0 }]);
    expect(decision.dryRunVerdict).toBe('deny');
  });

  it('port-level STRICT (PeerAuthentication converted by istiod) denies plaintext on that port only', () => {
    const policy = deny(match({ notPrincipals: [{ presence: {} }], destinationPorts: [8080] }));
    expect(evaluateL4([policy], conn({ sourceIdentity: undefined })).allowed).toBe(false);
    expect(evaluateL4([policy], conn({ sourceIdentity: undefined, destinationPort: 9090 })).allowed).toBe(true);
  });

  it('fails closed on an unusable source address: a DENY on it applies, an ALLOW on it does not', () => {
    const cidr = { address: b64(10, 0, 0, 0), length: 8 };
    const denied = evaluateL4([deny(match({ notSourceIps: [cidr] }))], conn({ sourceIp: 'not-an-ip' }));
    expect(denied.allowed).toBe(false);
    expect(denied.failClosed).toContain('not an IP address');
    expect(evaluateL4([allow(match({ notSourceIps: [cidr] }))], conn({ sourceIp: 'not-an-ip' })).allowed).toBe(false);
  });
});

describe('Kubernetes policies at ztunnel (istiod translation semantics)', () => {
  const httpAllow = kube({
    rules: [
      { from: [{ source: { namespaces: ['default'] } }], to: [{ operation: { methods: ['GET'] } }] },
      {
        from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }],
        to: [{ operation: { ports: ['8080'] } }],
      },
    ],
  });

  it('ALLOW rules with HTTP attributes are omitted; L4 rules still apply', () => {
    expect(evaluateL4([httpAllow], conn()).allowed).toBe(true);
    expect(evaluateL4([httpAllow], conn({ destinationPort: 9090 })).allowed).toBe(false);
  });

  it('an ALLOW made only of HTTP rules denies everything at ztunnel', () => {
    const onlyHttp = kube({ rules: [{ to: [{ operation: { paths: ['/x'] } }] }] });
    const decision = evaluateL4([onlyHttp], conn());
    expect(decision.reason).toBe('allow policies exist, but none allowed');
    expect(explainL4([onlyHttp], conn()).policies[0]!.rules[0]!.omitted).toContain('istiod omits it for ztunnel');
  });

  it('a DENY with only HTTP attributes fails closed by default (B8 #16), or copies ztunnel on request', () => {
    const httpDeny = kube({ action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] });
    const decision = evaluateL4([httpDeny], conn());
    expect(decision.allowed).toBe(false);
    expect(decision.failClosed).toContain('fail closed');
    expect(evaluateL4([httpDeny], conn(), { emptyDenyMatch: 'never-match' }).allowed).toBe(true);
  });

  it('a DENY keeps its L4 parts when HTTP parts are dropped', () => {
    const mixed = kube({
      action: 'DENY',
      rules: [{ from: [{ source: { namespaces: ['evil'] } }], to: [{ operation: { methods: ['POST'] } }] }],
    });
    expect(evaluateL4([mixed], conn()).allowed).toBe(true);
    expect(evaluateL4([mixed], conn({ sourceIdentity: 'spiffe://cluster.local/ns/evil/sa/x' })).allowed).toBe(false);
  });

  it("AUDIT, CUSTOM and targetRefs policies are not ztunnel's", () => {
    const policies = [
      kube({ action: 'AUDIT', rules: [{}] }, { name: 'audit' }),
      kube({ action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] }, { name: 'custom' }),
      kube({ targetRefs: [{ kind: 'Service', group: '', name: 'svc' }], rules: [] }, { name: 'waypoint' }),
    ];
    expect(evaluateL4(policies, conn()).reason).toBe('no allow policies apply');
    expect(explainL4(policies, conn()).policies.map((trace) => trace.outcome)).toEqual([
      'not-applicable',
      'not-applicable',
      'not-applicable',
    ]);
  });

  it('when: L4 keys are enforced, others drop the ALLOW rule', () => {
    const policy = kube({
      rules: [
        {
          when: [
            { key: 'destination.port', values: ['8080'] },
            { key: 'source.ip', notValues: ['192.168.0.0/16'] },
          ],
        },
        { when: [{ key: 'request.headers[x-a]', values: ['b'] }] },
      ],
    });
    expect(evaluateL4([policy], conn()).allowed).toBe(true);
    expect(evaluateL4([policy], conn({ sourceIp: '192.168.1.1' })).allowed).toBe(false);
  });
});
