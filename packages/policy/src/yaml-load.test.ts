import { describe, expect, it } from 'vitest';
import type { PolicyError } from './errors.ts';
import { loadPolicyDocuments, parsePolicyDocuments } from './yaml-load.ts';

const text = `# mesh policies
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-get
  namespace: foo
spec:
  rules:
  - to:
    - operation:
        methods: ["GET"]
        ports: ["80", "http"]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: foo
spec:
  jwtRules:
  - issuer: https://issuer.example
    jwksUri: https://issuer.example/jwks
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
`;

describe('YAML documents', () => {
  it('loads every kind it knows, lists the rest, and locates problems as file:line', () => {
    const loaded = loadPolicyDocuments(text, { file: 'mesh.yaml' });
    expect(loaded.authorizationPolicies.map((p) => p.key)).toEqual(['foo/allow-get']);
    expect(loaded.requestAuthentications.map((p) => p.key)).toEqual(['foo/jwt']);
    expect(loaded.ignored).toEqual([{ kind: 'Gateway', name: 'waypoint', line: 24 }]);
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatchObject({
      policy: 'foo/allow-get',
      field: 'spec.rules[0].to[0].operation.ports[1]',
      location: { file: 'mesh.yaml', line: 12, column: 23 },
    });
    expect(loaded.authorizationPolicies[0]!.problems[0]!.location!.line).toBe(12);
  });

  it('strict parsing throws with file:line', () => {
    expect(() => parsePolicyDocuments(text, { file: 'mesh.yaml' })).toThrow(
      /^mesh\.yaml:12: foo\/allow-get: spec\.rules\[0\]\.to\[0\]\.operation\.ports\[1\]: bad port "http"/,
    );
  });

  it('locates a missing field at its nearest parent', () => {
    const loaded = loadPolicyDocuments('kind: AuthorizationPolicy\nmetadata:\n  namespace: x\nspec: {}\n', {
      file: 'a.yaml',
    });
    expect(loaded.problems[0]).toMatchObject({ field: 'metadata.name', location: { line: 3 } });
  });

  it('reports YAML syntax errors with their line and keeps other documents', () => {
    const loaded = loadPolicyDocuments(
      'kind: AuthorizationPolicy\nmetadata: {name: a\n---\nkind: AuthorizationPolicy\nmetadata: {name: b}\n',
      { file: 'bad.yaml' },
    );
    expect(loaded.authorizationPolicies.map((p) => p.name)).toEqual(['b']);
    expect(loaded.problems[0]).toMatchObject({ severity: 'error', location: { file: 'bad.yaml' } });
    let error: unknown;
    try {
      parsePolicyDocuments('a: [', { file: 'x.yaml' });
    } catch (caught) {
      error = caught;
    }
    expect((error as PolicyError).code).toBe('INVALID_YAML');
  });

  it('reads JSON text and kind: List', () => {
    const list = JSON.stringify({
      kind: 'List',
      items: [{ kind: 'AuthorizationPolicy', metadata: { name: 'a', namespace: 'n' }, spec: { rules: [{ bad: 1 }] } }],
    });
    const loaded = loadPolicyDocuments(list, { file: 'list.json' });
    expect(loaded.authorizationPolicies[0]!.key).toBe('n/a');
    expect(loaded.problems[0]).toMatchObject({ field: 'spec.rules[0].bad', location: { line: 1 } });
  });
});
