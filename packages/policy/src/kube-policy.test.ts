// Loading Kubernetes AuthorizationPolicies: problems name the policy and field; the loaded form is fail-safe.
import { describe, expect, it } from 'vitest';
import { kube, lenient, req } from '../test/helpers.ts';
import { PolicyError } from './errors.ts';
import { evaluateL7 } from './evaluate.ts';
import { loadAuthorizationPolicy, parseAuthorizationPolicy } from './kube-policy.ts';

const object = (spec: unknown, metadata: Record<string, unknown> = { name: 'p', namespace: 'ns' }) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata,
  spec,
});

describe('loading', () => {
  it('reads metadata, action, attachment and dry-run', () => {
    const policy = kube(
      { action: 'DENY', selector: { matchLabels: { app: 'web' } }, rules: [{}] },
      { name: 'd', namespace: 'prod', annotations: { 'istio.io/dry-run': 'true' } },
    );
    expect(policy).toMatchObject({
      key: 'prod/d',
      action: 'DENY',
      dryRun: true,
      attachment: { kind: 'selector', matchLabels: { app: 'web' } },
      origin: 'kubernetes',
      problems: [],
    });
  });

  it('defaults the namespace and the action', () => {
    const { policy } = loadAuthorizationPolicy(
      { kind: 'AuthorizationPolicy', metadata: { name: 'a' }, spec: {} },
      { defaultNamespace: 'team' },
    );
    expect(policy).toMatchObject({ key: 'team/a', action: 'ALLOW', attachment: { kind: 'namespace' }, rules: [] });
  });

  it('reads targetRefs (and the legacy targetRef)', () => {
    const policy = kube({
      targetRefs: [
        { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' },
        { kind: 'Service', group: '', name: 'svc' },
      ],
    });
    expect(policy.attachment).toEqual({
      kind: 'targetRefs',
      targetRefs: [
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' },
        { group: '', kind: 'Service', name: 'svc' },
      ],
    });
    const legacy = lenient({ targetRef: { kind: 'ServiceEntry', group: 'networking.istio.io', name: 'se' } });
    expect(legacy.attachment).toMatchObject({ kind: 'targetRefs', targetRefs: [{ kind: 'ServiceEntry' }] });
    expect(legacy.problems[0]).toMatchObject({ severity: 'warning', field: 'spec.targetRef' });
  });

  it('warns about principals written with spiffe:// (they can never match)', () => {
    const { problems } = loadAuthorizationPolicy(
      object({ rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/a/sa/b'] } }] }] }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', field: 'spec.rules[0].from[0].source.principals[0]' }),
    ]);
  });
});

describe('bad input: rejected with policy and field named', () => {
  it.each([
    [
      { rules: [{ from: [{ source: { ipBlocks: ['10.0.0.300/8'] } }] }] },
      'spec.rules[0].from[0].source.ipBlocks[0]',
      'bad CIDR range',
    ],
    [
      { rules: [{ from: [{ source: { principal: ['x'] } }] }] },
      'spec.rules[0].from[0].source.principal',
      'unknown field "principal"',
    ],
    [
      { rules: [{ to: [{ operation: { paths: ['/a/{**}/{*}'] } }] }] },
      'spec.rules[0].to[0].operation.paths[0]',
      'invalid path template',
    ],
    [{ rules: [{ to: [{ operation: { ports: ['http'] } }] }] }, 'spec.rules[0].to[0].operation.ports[0]', 'bad port'],
    [
      { rules: [{ when: [{ key: 'experimental.envoy.filters.x[y]', values: ['z'] }] }] },
      'spec.rules[0].when[0].key',
      'unsupported key',
    ],
    [{ rules: [{ when: [{ key: 'request.nope', values: ['z'] }] }] }, 'spec.rules[0].when[0].key', 'unknown attribute'],
    [{ rules: [{ when: [{ key: 'source.ip' }] }] }, 'spec.rules[0].when[0]', 'at least one of `values` or `notValues`'],
    [{ rules: [{ from: [{ source: {} }] }] }, 'spec.rules[0].from[0].source', 'must not be empty'],
    [{ rules: [{ from: [] }] }, 'spec.rules[0].from', 'must not be empty'],
    [
      { rules: [{ from: [{ source: { serviceAccounts: ['a'], principals: ['b'] } }] }] },
      'spec.rules[0].from[0].source',
      'cannot set serviceAccounts',
    ],
    [
      { rules: [{ from: [{ source: { serviceAccounts: ['ns/*'] } }] }] },
      'spec.rules[0].from[0].source.serviceAccounts[0]',
      'wildcards',
    ],
    [
      { rules: [{ to: [{ operation: { methods: [''] } }] }] },
      'spec.rules[0].to[0].operation.methods[0]',
      'empty value',
    ],
    [{ rule: [{}] }, 'spec.rule', 'unknown field "rule"'],
    [{ action: 'DENNY', rules: [{}] }, 'spec.action', 'unknown action'],
    [
      { selector: { matchLabels: { app: 'a' } }, targetRefs: [{ kind: 'Service', name: 's' }] },
      'spec.selector',
      'only one of',
    ],
    [
      { targetRefs: [{ kind: 'Pod', name: 'x' }] },
      'spec.targetRefs[0]',
      'must be a Gateway, GatewayClass, Service or ServiceEntry',
    ],
    [
      { targetRefs: [{ kind: 'Service', name: 'x', namespace: 'other' }] },
      'spec.targetRefs[0].namespace',
      'cross-namespace',
    ],
    [{ action: 'CUSTOM', rules: [{}] }, 'spec.provider', 'provider.name'],
  ])('%j → %s', (spec, field, message) => {
    const { problems } = loadAuthorizationPolicy(object(spec));
    const problem = problems.find((p) => p.severity === 'error');
    expect(problem).toMatchObject({ policy: 'ns/p', field });
    expect(problem!.message).toContain(message);
    let thrown: unknown;
    try {
      parseAuthorizationPolicy(object(spec));
    } catch (error) {
      thrown = error;
    }
    expect(PolicyError.isPolicyError(thrown)).toBe(true);
    expect((thrown as PolicyError).code).toBe('INVALID_POLICY');
    expect((thrown as PolicyError).message).toContain(`ns/p: ${field}`);
  });

  it('never throws on garbage', () => {
    for (const input of [
      null,
      42,
      'x',
      [],
      { spec: 'x' },
      { metadata: [], spec: { rules: 'x' } },
      { spec: { rules: [null, 1, 'x'] } },
    ]) {
      expect(() => loadAuthorizationPolicy(input)).not.toThrow();
    }
  });
});

describe('bad input: fail-safe decisions', () => {
  const from = (source: Record<string, unknown>) => ({ rules: [{ from: [{ source }] }] });

  it('an ALLOW rule with a bad value is dropped (stricter), the others stay', () => {
    const policy = lenient({
      rules: [{ from: [{ source: { ipBlocks: ['bad', '10.0.0.0/8'] } }] }, { to: [{ operation: { paths: ['/ok'] } }] }],
    });
    expect(policy.rules[0]!.dropped).toContain('bad IP address');
    expect(evaluateL7([policy], req({ path: '/x' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ path: '/ok' })).allowed).toBe(true);
  });

  it('a DENY ignores the condition with a bad value (broader: the bad value might have widened it)', () => {
    const policy = lenient({
      action: 'DENY',
      ...from({ ipBlocks: ['bad', '192.168.0.0/16'], namespaces: ['default'] }),
    });
    expect(evaluateL7([policy], req({ sourceIp: '192.168.1.1' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ sourceIp: '10.0.0.1' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ sourceIdentity: 'spiffe://cluster.local/ns/other/sa/x' })).allowed).toBe(true);
  });

  it('a DENY ignores only the bad value of a negative list (fewer exclusions: broader)', () => {
    const policy = lenient({ action: 'DENY', ...from({ notIpBlocks: ['bad', '192.168.0.0/16'] }) });
    expect(evaluateL7([policy], req({ sourceIp: '192.168.1.1' })).allowed).toBe(true);
    expect(evaluateL7([policy], req({ sourceIp: '10.0.0.1' })).allowed).toBe(false);
  });

  it('a DENY with an unsupported when key keeps its other conditions (Istio would skip the whole rule)', () => {
    const policy = lenient({
      action: 'DENY',
      rules: [
        {
          to: [{ operation: { paths: ['/admin'] } }],
          when: [{ key: 'experimental.envoy.filters.a[b]', values: ['c'] }],
        },
      ],
    });
    expect(evaluateL7([policy], req({ path: '/admin' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ path: '/public' })).allowed).toBe(true);
  });

  it('an ALLOW that cannot be understood as a whole allows nothing', () => {
    const policy = lenient({ rule: [{}] });
    expect(policy.rules).toEqual([]);
    expect(policy.problems[0]!.effect).toContain('allow-nothing');
    expect(evaluateL7([policy], req()).allowed).toBe(false);
  });

  it('a DENY that cannot be understood as a whole denies everything in its scope', () => {
    const policy = lenient({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }], extra: true });
    expect(evaluateL7([policy], req({ path: '/public' })).allowed).toBe(false);
  });

  it('an unknown action allows nothing', () => {
    expect(evaluateL7([lenient({ action: 'PERMIT', rules: [{}] })], req()).allowed).toBe(false);
  });

  it('a bad selector widens the scope to the namespace', () => {
    expect(lenient({ selector: { matchLabels: { app: '*' } }, rules: [{}] }).attachment).toEqual({ kind: 'namespace' });
  });

  it('a CUSTOM policy without a provider denies what it matches', () => {
    const policy = lenient({ action: 'CUSTOM', rules: [{ to: [{ operation: { paths: ['/x'] } }] }] });
    expect(evaluateL7([policy], req({ path: '/x' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ path: '/y' })).allowed).toBe(true);
  });
});
