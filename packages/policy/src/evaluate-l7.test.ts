// The waypoint's L7 semantics: Istio documentation examples and the acceptance cases of l7-facts.md §2.
import { describe, expect, it } from 'vitest';
import { kube, req, SLEEP } from '../test/helpers.ts';
import { evaluateL7, explainL7, formatExplanation } from './evaluate.ts';

describe('Istio documentation examples', () => {
  // istio.io reference: "allows requests from sa sleep or namespace test to GET /info* or POST /data with a JWT from Google".
  const httpbin = kube(
    {
      action: 'ALLOW',
      rules: [
        {
          from: [
            { source: { principals: ['cluster.local/ns/default/sa/sleep'] } },
            { source: { namespaces: ['test'] } },
          ],
          to: [
            { operation: { methods: ['GET'], paths: ['/info*'] } },
            { operation: { methods: ['POST'], paths: ['/data'] } },
          ],
          when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
        },
      ],
    },
    { name: 'httpbin', namespace: 'foo' },
  );
  const google = {
    principal: 'https://accounts.google.com/user',
    claims: { iss: 'https://accounts.google.com', sub: 'user' },
  };

  it.each([
    ['sleep GET /info/x with a Google JWT', req({ path: '/info/x', auth: google }), true],
    [
      'namespace test POST /data',
      req({ method: 'POST', path: '/data', sourceIdentity: 'spiffe://cluster.local/ns/test/sa/x', auth: google }),
      true,
    ],
    ['without the JWT', req({ path: '/info' }), false],
    ['POST /info', req({ method: 'POST', path: '/info', auth: google }), false],
    [
      'another identity',
      req({ path: '/info', sourceIdentity: 'spiffe://cluster.local/ns/other/sa/x', auth: google }),
      false,
    ],
  ])('%s → allowed: %s', (_, request, allowed) => {
    expect(evaluateL7([httpbin], request).allowed).toBe(allowed);
  });

  it('allow-nothing (spec: {}) denies everything', () => {
    const decision = evaluateL7([kube({}, { name: 'allow-nothing' })], req());
    expect(decision).toMatchObject({ allowed: false, reason: 'allow policies exist, but none allowed' });
  });

  it('deny-all (DENY with rules [{}]) denies everything', () => {
    const decision = evaluateL7(
      [kube({ action: 'DENY', rules: [{}] }, { name: 'deny-all' }), kube({ rules: [{}] }, { name: 'allow-all' })],
      req(),
    );
    expect(decision).toMatchObject({
      allowed: false,
      reason: 'explicitly denied by: ns/deny-all',
      policy: 'ns/deny-all',
      rule: 0,
    });
  });

  it('allow-all (rules [{}]) allows everything', () => {
    expect(evaluateL7([kube({ rules: [{}] })], req({ method: 'DELETE', path: '/anything' })).allowed).toBe(true);
  });
});

describe('acceptance: TestAuthorizationL7 (istio/istio tests/integration/ambient/baseline_test.go)', () => {
  const caller = 'cluster.local/ns/echo/sa/a';
  const policies = [
    kube(
      {
        rules: [
          { to: [{ operation: { methods: ['GET'], paths: ['/allowed'] } }] },
          {
            from: [{ source: { principals: [caller] } }],
            to: [{ operation: { methods: ['GET'], paths: ['/allowed-identity'] } }],
          },
          {
            from: [{ source: { principals: ['cluster.local/ns/echo/sa/someone-else'] } }],
            to: [{ operation: { methods: ['GET'], paths: ['/denied-identity'] } }],
          },
          { to: [{ operation: { methods: ['GET'], paths: ['/allowed-wildcard*'] } }] },
          {
            to: [{ operation: { methods: ['GET'], paths: ['/headers'] } }],
            when: [{ key: 'request.headers[x-test-header]', values: ['match'] }],
          },
        ],
      },
      { name: 'allow', namespace: 'echo' },
    ),
    kube(
      { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/explicit-deny'] } }] }] },
      { name: 'deny', namespace: 'echo' },
    ),
  ];
  const from = `spiffe://${caller}`;

  it.each([
    ['simple allow', req({ path: '/allowed', sourceIdentity: from }), true],
    ['simple deny', req({ path: '/denied', sourceIdentity: from }), false],
    ['identity allow', req({ path: '/allowed-identity', sourceIdentity: from }), true],
    ['identity deny', req({ path: '/denied-identity', sourceIdentity: from }), false],
    ['explicit deny', req({ path: '/explicit-deny', sourceIdentity: from }), false],
    ['wildcard allow', req({ path: '/allowed-wildcard-anything', sourceIdentity: from }), true],
    ['headers allow', req({ path: '/headers', headers: { 'X-Test-Header': 'match' }, sourceIdentity: from }), true],
    ['headers deny', req({ path: '/headers', headers: { 'x-test-header': 'no-match' }, sourceIdentity: from }), false],
  ])('%s', (_, request, allowed) => {
    expect(evaluateL7(policies, request).allowed).toBe(allowed);
  });
});

describe('operations', () => {
  it('methods compare canonically: a lower-case method cannot bypass a DENY (GHSA-w44g-8m76-8gc5)', () => {
    const policy = kube({ action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] });
    for (const method of ['DELETE', 'delete', 'Delete', 'dElEtE'])
      expect(evaluateL7([policy], req({ method })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ method: 'GET' })).allowed).toBe(true);
  });

  it('a method that is not an HTTP token cannot be judged: DENY applies, ALLOW does not (fail closed)', () => {
    const deny = kube({ action: 'DENY', rules: [{ to: [{ operation: { notMethods: ['GET'] } }] }] });
    expect(evaluateL7([deny], req({ method: 'GET X' })).allowed).toBe(false);
    const allow = kube({ rules: [{ to: [{ operation: { notMethods: ['DELETE'] } }] }] });
    expect(evaluateL7([allow], req({ method: 'GET X' })).allowed).toBe(false);
  });

  it('hosts are case-insensitive and match with or without a port', () => {
    const policy = kube({ rules: [{ to: [{ operation: { hosts: ['HttpBin.foo', '*.example.com'] } }] }] });
    for (const host of ['httpbin.foo', 'HTTPBIN.FOO', 'httpbin.foo:8000', 'a.EXAMPLE.com', 'a.example.com:443']) {
      expect(evaluateL7([policy], req({ host })).allowed, host).toBe(true);
    }
    for (const host of ['httpbin.bar', 'httpbin.foo.evil', 'example.com'])
      expect(evaluateL7([policy], req({ host })).allowed, host).toBe(false);
  });

  it('a host with a port in the policy needs that port', () => {
    const policy = kube({ rules: [{ to: [{ operation: { hosts: ['httpbin.foo:8000'] } }] }] });
    expect(evaluateL7([policy], req({ host: 'httpbin.foo:8000' })).allowed).toBe(true);
    expect(evaluateL7([policy], req({ host: 'httpbin.foo:9000' })).allowed).toBe(false);
  });

  it('paths are normalized and the query is ignored', () => {
    const policy = kube({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }] });
    for (const path of ['/admin', '/admin?x=1', '/public/../admin', '/admin/x', '/%61dmin/', '/./admin']) {
      expect(evaluateL7([policy], req({ path })).allowed, path).toBe(false);
    }
    expect(evaluateL7([policy], req({ path: '//admin' })).allowed).toBe(true);
    expect(evaluateL7([policy], req({ path: '//admin' }), { pathNormalization: 'MERGE_SLASHES' }).allowed).toBe(false);
    expect(
      evaluateL7([policy], req({ path: '/x/..%2Fadmin' }), { pathNormalization: 'DECODE_AND_MERGE_SLASHES' }).allowed,
    ).toBe(false);
  });

  it('path templates', () => {
    const policy = kube({ rules: [{ to: [{ operation: { paths: ['/api/{*}/items', '/files/{**}'] } }] }] });
    expect(evaluateL7([policy], req({ path: '/api/v1/items' })).allowed).toBe(true);
    expect(evaluateL7([policy], req({ path: '/api/v1/x/items' })).allowed).toBe(false);
    expect(evaluateL7([policy], req({ path: '/files/a/b/c.txt' })).allowed).toBe(true);
  });

  it('an unusable path fails closed: the notPaths of a DENY applies, of an ALLOW does not', () => {
    const deny = kube({ action: 'DENY', rules: [{ to: [{ operation: { notPaths: ['/public*'] } }] }] });
    const decision = evaluateL7([deny], req({ path: '/public/%zz' }));
    expect(decision.allowed).toBe(false);
    expect(decision.failClosed).toContain('invalid %-escape');
    const allow = kube({ rules: [{ to: [{ operation: { notPaths: ['/admin*'] } }] }] });
    expect(evaluateL7([allow], req({ path: '/admin\u0000' })).allowed).toBe(false);
  });

  it('a CONNECT without :path matches no path and every notPath', () => {
    const policy = kube({ rules: [{ to: [{ operation: { notPaths: ['/admin'] } }] }] });
    expect(evaluateL7([policy], req({ method: 'CONNECT', path: undefined })).allowed).toBe(true);
    const paths = kube({ rules: [{ to: [{ operation: { paths: ['*'] } }] }] });
    expect(evaluateL7([paths], req({ method: 'CONNECT', path: undefined })).allowed).toBe(false);
  });

  it('ports are the destination port', () => {
    const policy = kube({ rules: [{ to: [{ operation: { ports: ['8000'] } }] }] });
    expect(evaluateL7([policy], req()).allowed).toBe(true);
    expect(evaluateL7([policy], req({ destinationPort: 9000 })).allowed).toBe(false);
  });
});

describe('sources and conditions', () => {
  const auth = {
    principal: 'https://issuer.example/alice',
    claims: {
      iss: 'https://issuer.example',
      sub: 'alice',
      groups: ['dev', 'ops'],
      scope: 'read write',
      nested: { team: { name: 'core' } },
      azp: 'cli',
    },
    audiences: ['api'],
  };

  it.each([
    ['*', true],
    ['https://issuer.example/alice', true],
    ['https://issuer.example/*', true],
    ['*/alice', true],
    ['*ice', true],
    ['https:*', true], // no "/": issuer prefix
    ['https://issuer*', false], // has "/": split at the last one, so issuer "https:/" exactly (istiod's rule)
    ['https://issuer.example/bob', false],
    ['*/bob', false],
  ])('requestPrincipals %j → %s', (value, allowed) => {
    const policy = kube({ rules: [{ from: [{ source: { requestPrincipals: [value] } }] }] });
    expect(evaluateL7([policy], req({ auth })).allowed).toBe(allowed);
    expect(evaluateL7([policy], req()).allowed).toBe(false);
  });

  it.each([
    ['request.auth.claims[groups]', ['ops'], true],
    ['request.auth.claims[groups]', ['admin'], false],
    ['request.auth.claims[scope]', ['write'], true],
    ['request.auth.claims[nested][team][name]', ['core'], true],
    ['request.auth.audiences', ['api'], true],
    ['request.auth.presenter', ['cli'], true],
    ['request.auth.principal', ['https://issuer.example/alice'], true],
    ['source.ip', ['10.0.0.0/8'], true],
    ['remote.ip', ['192.168.0.0/16'], false],
    ['source.namespace', ['default'], true],
    ['source.principal', ['cluster.local/ns/default/*'], true],
    ['source.serviceAccount', ['default/sleep'], true],
    ['destination.ip', ['10.96.0.0/12'], true],
    ['destination.port', ['8000'], true],
    ['connection.sni', ['*.svc.cluster.local'], true],
  ])('when %s in %j → %s', (key, values, allowed) => {
    const policy = kube({ rules: [{ when: [{ key, values }] }] });
    expect(evaluateL7([policy], req({ auth, sni: 'httpbin.foo.svc.cluster.local' })).allowed).toBe(allowed);
  });

  it('header presence (*) matches an empty header, absence does not', () => {
    const policy = kube({ rules: [{ when: [{ key: 'request.headers[x-token]', values: ['*'] }] }] });
    expect(evaluateL7([policy], req({ headers: { 'x-token': '' } })).allowed).toBe(true);
    expect(evaluateL7([policy], req()).allowed).toBe(false);
  });

  it('a negated header match fails closed on bytes that are not UTF-8 (Envoy CVE-2026-73552 class)', () => {
    const policy = kube({ rules: [{ when: [{ key: 'request.headers[x-user]', notValues: ['admin'] }] }] });
    expect(evaluateL7([policy], req({ headers: { 'x-user': 'bob' } })).allowed).toBe(true);
    expect(evaluateL7([policy], req({ headers: { 'x-user': new Uint8Array([0x61, 0xff, 0x62]) } })).allowed).toBe(
      false,
    );
    const deny = kube({ action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-user]', notValues: ['bob'] }] }] });
    expect(evaluateL7([deny], req({ headers: { 'x-user': 'a\r\nb' } })).allowed).toBe(false);
  });

  it('serviceAccounts default to the policy namespace', () => {
    const policy = kube({ rules: [{ from: [{ source: { serviceAccounts: ['sleep'] } }] }] }, { namespace: 'default' });
    expect(evaluateL7([policy], req()).allowed).toBe(true);
    const other = kube({ rules: [{ from: [{ source: { serviceAccounts: ['sleep'] } }] }] }, { namespace: 'other' });
    expect(evaluateL7([other], req()).allowed).toBe(false);
  });
});

describe('TCP traffic through a waypoint', () => {
  const tcp = req({ protocol: 'tcp', method: undefined, path: undefined, host: undefined });

  it('an ALLOW rule with HTTP-only fields never matches on TCP', () => {
    const policy = kube({ rules: [{ to: [{ operation: { ports: ['8000'], methods: ['GET'] } }] }] });
    expect(evaluateL7([policy], tcp).allowed).toBe(false);
    expect(evaluateL7([policy], req()).allowed).toBe(true);
  });

  it('a DENY rule ignores its HTTP-only fields on TCP (broader)', () => {
    const policy = kube({ action: 'DENY', rules: [{ to: [{ operation: { ports: ['8000'], methods: ['DELETE'] } }] }] });
    expect(evaluateL7([policy], tcp).allowed).toBe(false);
    expect(evaluateL7([policy], { ...tcp, destinationPort: 9000 }).allowed).toBe(true);
    expect(evaluateL7([policy], req({ method: 'GET' })).allowed).toBe(true);
  });
});

describe('actions', () => {
  it('AUDIT marks without changing the verdict', () => {
    const decision = evaluateL7(
      [kube({ action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['/secret*'] } }] }] }, { name: 'audit' })],
      req({ path: '/secret/x' }),
    );
    expect(decision).toMatchObject({ allowed: true, audit: { policy: 'ns/audit', rule: 0 } });
  });

  it('CUSTOM needs the provider to allow; no answer or "deny" denies; it cannot override a DENY', () => {
    const custom = kube(
      { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{ to: [{ operation: { paths: ['/ext*'] } }] }] },
      { name: 'custom' },
    );
    const request = req({ path: '/ext/x' });
    expect(evaluateL7([custom], request)).toMatchObject({
      allowed: false,
      custom: [{ provider: 'ext', policy: 'ns/custom' }],
    });
    expect(evaluateL7([custom], request, { customResults: { ext: 'deny' } }).reason).toContain(
      'denied by external authorizer "ext"',
    );
    expect(evaluateL7([custom], request, { customResults: { ext: 'allow' } }).allowed).toBe(true);
    expect(evaluateL7([custom], req({ path: '/other' })).allowed).toBe(true);
    const deny = kube({ action: 'DENY', rules: [{}] }, { name: 'deny' });
    expect(evaluateL7([custom, deny], request, { customResults: { ext: 'allow' } }).reason).toBe(
      'explicitly denied by: ns/deny',
    );
  });

  it('dry-run policies are reported with what enforcing them would do', () => {
    const shadowDeny = kube(
      { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
      { name: 'shadow', annotations: { 'istio.io/dry-run': 'true' } },
    );
    const decision = evaluateL7([shadowDeny], req());
    expect(decision).toMatchObject({
      allowed: true,
      dryRun: [{ policy: 'ns/shadow', action: 'DENY', rule: 0 }],
      dryRunVerdict: 'deny',
    });
    const shadowAllow = kube(
      { rules: [{ to: [{ operation: { methods: ['POST'] } }] }] },
      { name: 'shadow-allow', annotations: { 'istio.io/dry-run': 'true' } },
    );
    expect(evaluateL7([shadowAllow], req())).toMatchObject({
      allowed: true,
      reason: 'no allow policies apply',
      dryRunVerdict: 'deny',
    });
  });
});

describe('explain', () => {
  it('traces every policy, rule and condition with the request value', () => {
    const policies = [
      kube(
        {
          rules: [
            {
              from: [{ source: { principals: ['cluster.local/ns/prod/sa/api'] } }],
              to: [{ operation: { methods: ['GET'] } }],
            },
          ],
        },
        { name: 'allow-api' },
      ),
      kube({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }, { name: 'no-admin' }),
    ];
    const explanation = explainL7(policies, req({ path: '/status' }));
    expect(explanation.decision.reason).toBe('allow policies exist, but none allowed');
    const [allowTrace, denyTrace] = explanation.policies;
    expect(allowTrace).toMatchObject({ policy: 'ns/allow-api', outcome: 'not-matched' });
    const condition = allowTrace!.rules[0]!.clauses[0]!.matches[0]!.conditions[0]!;
    expect(condition).toMatchObject({
      field: 'spec.rules[0].from[0].source.principals',
      attribute: 'source.principal',
      values: ['cluster.local/ns/prod/sa/api'],
      actual: SLEEP.slice('spiffe://'.length),
      outcome: 'no-match',
    });
    expect(denyTrace).toMatchObject({ policy: 'ns/no-admin', outcome: 'not-matched' });
    const text = formatExplanation(explanation);
    expect(text).toContain('DENY: allow policies exist, but none allowed');
    expect(text).toContain('spec.rules[0].to[0].operation.paths: /status in [/admin*] → no-match');
  });
});
