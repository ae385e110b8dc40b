// Where each policy goes (ztunnel Authorization, workload reference, waypoint object) and what the
// translation reports about it.
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../load/yaml-source.ts';
import { formatProblem } from './problems.ts';
import { translate, type Translation } from './translate.ts';

function tx(yaml: string): Translation {
  return translate(parseYaml(yaml, 'p.yaml').objects);
}

function workload(t: Translation, uid: string): Record<string, unknown> {
  const found = t.addresses.find((a) => a.name === uid)!.resource;
  return (found as { workload: Record<string, unknown> }).workload;
}

const problems = (t: Translation): string[] => t.problems.map(formatProblem);

const pods = `
kind: Namespace
metadata: {name: default, labels: {istio.io/dataplane-mode: ambient}}
---
kind: Pod
metadata: {name: echo, namespace: default, labels: {app: echo}}
spec: {nodeName: n}
status: {podIP: 127.0.1.1}
---
kind: Pod
metadata: {name: other, namespace: team, labels: {app: echo}}
spec: {nodeName: n}
status: {podIP: 127.0.1.2}
---
kind: Namespace
metadata: {name: team}
`;

const policy = (name: string, namespace: string, spec: string): string => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec:
${spec}`;

describe('AuthorizationPolicy for ztunnel', () => {
  it('a selector policy is WORKLOAD_SELECTOR and listed by the selected workloads of its namespace only', () => {
    const t = tx(
      pods +
        policy(
          'deny-x',
          'default',
          '  selector: {matchLabels: {app: echo}}\n  action: DENY\n  rules: [{from: [{source: {namespaces: [x]}}]}]',
        ),
    );
    expect(t.authorizations).toEqual([
      {
        name: 'default/deny-x',
        resource: {
          name: 'deny-x',
          namespace: 'default',
          scope: 'WORKLOAD_SELECTOR',
          action: 'DENY',
          rules: [{ clauses: [{ matches: [{ namespaces: [{ exact: 'x' }] }] }] }],
        },
      },
    ]);
    expect(workload(t, 'Kubernetes//Pod/default/echo')['authorizationPolicies']).toEqual(['default/deny-x']);
    expect(workload(t, 'Kubernetes//Pod/team/other')['authorizationPolicies']).toBeUndefined();
    expect(t.problems).toEqual([]);
  });

  it('a selector-less policy in the root namespace is GLOBAL (scope omitted); elsewhere NAMESPACE; neither is listed on workloads', () => {
    const t = tx(
      pods + policy('allow-all', 'istio-system', '  rules: [{}]') + policy('ns-wide', 'default', '  rules: [{}]'),
    );
    expect(t.authorizations.map((a) => a.resource)).toEqual([
      { name: 'ns-wide', namespace: 'default', scope: 'NAMESPACE', rules: [{}] },
      { name: 'allow-all', namespace: 'istio-system', rules: [{}] },
    ]);
    expect(workload(t, 'Kubernetes//Pod/default/echo')['authorizationPolicies']).toBeUndefined();
  });

  it('a root-namespace selector policy attaches to matching workloads of every namespace, keys sorted', () => {
    const t = tx(
      pods +
        policy('mesh-deny', 'istio-system', '  selector: {matchLabels: {app: echo}}\n  action: DENY\n  rules: [{}]') +
        policy('a-local', 'default', '  selector: {matchLabels: {app: echo}}\n  rules: [{}]'),
    );
    expect(workload(t, 'Kubernetes//Pod/default/echo')['authorizationPolicies']).toEqual([
      'default/a-local',
      'istio-system/mesh-deny',
    ]);
    expect(workload(t, 'Kubernetes//Pod/team/other')['authorizationPolicies']).toEqual(['istio-system/mesh-deny']);
  });

  it('an ALLOW rule with HTTP attributes is dropped the way istiod drops it, with its status message as a warning', () => {
    const t = tx(
      pods +
        policy(
          'l7',
          'default',
          '  rules:\n  - to: [{operation: {paths: ["/a"]}}]\n  - to: [{operation: {ports: ["8080"]}}]',
        ),
    );
    expect(t.authorizations[0]!.resource['rules']).toEqual([
      { clauses: [{ matches: [{ destinationPorts: [8080] }] }] },
    ]);
    expect(problems(t)).toEqual([
      expect.stringMatching(
        /^p\.yaml:\d+: AuthorizationPolicy default\/l7: warning: spec\.rules: ztunnel does not support HTTP attributes \(found: paths\)/,
      ),
    ]);
  });

  it('dry-run and AUDIT policies are not sent to ztunnel, with a warning each', () => {
    const t = tx(
      pods +
        `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: dry, namespace: default, annotations: {istio.io/dry-run: "true"}}
spec: {action: DENY, rules: [{}]}` +
        policy('audit', 'default', '  action: AUDIT\n  rules: [{}]'),
    );
    expect(t.authorizations).toEqual([]);
    expect(problems(t).join('\n')).toMatch(
      /dry: warning: metadata\.annotations\.istio\.io\/dry-run: dry-run policies are not sent/,
    );
    expect(problems(t).join('\n')).toMatch(/audit: warning: spec\.action: ztunnel does not support the AUDIT action/);
  });

  it('a policy with an error is reported and sent in its fail-safe form, never dropped (an ALLOW that fails allows nothing)', () => {
    const yaml = pods + policy('broken', 'default', '  rules: [{from: [{source: {ipBlocks: ["10.0.0.0/40"]}}]}]');
    const line = yaml.split('\n').findIndex((l) => l.includes('ipBlocks')) + 1;
    const t = tx(yaml);
    expect(t.problems[0]).toMatchObject({
      severity: 'error',
      name: 'broken',
      field: 'spec.rules[0].from[0].source.ipBlocks[0]',
      line,
    });
    expect(t.authorizations.map((a) => a.resource)).toEqual([
      { name: 'broken', namespace: 'default', scope: 'NAMESPACE' },
    ]);
  });
});

const waypointMesh = `${pods}
---
kind: Service
metadata: {name: echo, namespace: default, labels: {istio.io/use-waypoint: wp}}
spec: {clusterIP: 127.10.0.1, selector: {app: echo}, ports: [{port: 80}]}
---
kind: Service
metadata: {name: plain, namespace: default}
spec: {clusterIP: 127.10.0.2, selector: {app: echo}, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: default, annotations: {ambient-ts.io/pod-ip: 127.0.2.10, ambient-ts.io/node: n}}
spec:
  gatewayClassName: istio-waypoint
  addresses: [{value: 127.10.0.10}]
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;

describe('objects for waypoints', () => {
  it('targetRefs policies, RequestAuthentications and HTTPRoutes go to waypoints, not to ztunnel', () => {
    const t = tx(`${waypointMesh}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: jwt-required, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: echo}]
  action: DENY
  rules: [{from: [{source: {notRequestPrincipals: ["*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: wp}]
  jwtRules: [{issuer: https://issuer.example, jwksUri: https://issuer.example/jwks}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules: [{backendRefs: [{name: plain, port: 80}]}]
`);
    expect(t.authorizations).toEqual([]);
    expect(t.l7.map((r) => r.name)).toEqual([
      'AuthorizationPolicy/default/jwt-required',
      'Gateway/default/wp',
      'HTTPRoute/default/r',
      'RequestAuthentication/default/jwt',
    ]);
    expect(t.l7[0]!.resource).toEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'jwt-required', namespace: 'default' },
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'echo' }],
        action: 'DENY',
        rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }],
      },
    });
    expect(t.l7[1]!.resource['status']).toEqual({
      addresses: [
        { type: 'Hostname', value: 'wp.default.svc.cluster.local' },
        { type: 'IPAddress', value: '127.10.0.10' },
      ],
    });
    expect(problems(t)).toEqual([]);
  });

  it('attachments that cannot bind are warned about like istiod status conditions', () => {
    const t = tx(`${waypointMesh}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: plain}]
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: by-selector, namespace: default}
spec:
  selector: {matchLabels: {app: echo}}
  jwtRules: [{issuer: https://issuer.example}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{kind: Service, name: plain}]
  rules: [{backendRefs: [{name: missing, port: 80}]}]
`);
    const text = problems(t).join('\n');
    expect(text).toMatch(
      /AuthorizationPolicy default\/p: warning: spec\.targetRefs\[0\]: not bound: Service default\/plain is not bound to a waypoint/,
    );
    expect(text).toMatch(/RequestAuthentication default\/by-selector: warning: spec: has no targetRefs/);
    expect(text).toMatch(
      /HTTPRoute default\/r: warning: spec\.parentRefs\[0\]: Service default\/plain has no waypoint/,
    );
    expect(text).toMatch(
      /HTTPRoute default\/r: warning: spec\.rules\[0\]\.backendRefs\[0\]: backend Service default\/missing was not found/,
    );
    expect(t.l7.map((r) => r.name)).toEqual([
      'AuthorizationPolicy/default/p',
      'Gateway/default/wp',
      'HTTPRoute/default/r',
    ]);
  });

  it('an HTTPRoute without parentRefs is rejected', () => {
    const t = tx(`${waypointMesh}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orphan, namespace: default}
spec: {rules: [{backendRefs: [{name: plain}]}]}
`);
    expect(t.problems[0]).toMatchObject({
      severity: 'error',
      kind: 'HTTPRoute',
      name: 'orphan',
      field: 'spec.parentRefs',
    });
    expect(t.l7.map((r) => r.name)).toEqual(['Gateway/default/wp']);
  });

  it('an HTTPRoute the waypoint would reject is rejected here, on the field and line the route parser names', () => {
    const yaml = `${waypointMesh}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: echo}]
  rules:
  - matches:
    - headers: [{name: x-v, type: RegularExpression, value: "("}]
    retry: {attempts: 2}
`;
    const t = tx(yaml);
    const line = yaml.split('\n').findIndex((text) => text.includes('x-v')) + 1;
    expect(t.problems).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        line,
        kind: 'HTTPRoute',
        name: 'bad',
        field: 'spec.rules[0].matches[0].headers[0].value',
        message: expect.stringMatching(/^is not a valid regular expression/),
      }),
    );
    const text = problems(t).join('\n');
    expect(text).toMatch(/HTTPRoute default\/bad: warning: spec\.rules\[0\]\.retry: is not implemented by this proxy/);
    expect(t.l7.map((r) => r.name)).toEqual(['Gateway/default/wp']);
  });
});
