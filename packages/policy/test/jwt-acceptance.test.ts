// Istio's TestL7JWT (tests/integration/ambient/testdata/requestauthn/waypoint-jwt.yaml.tmpl) through a
// small HTTP front end: authenticate → 401, authorize → 403, else 200, asserted on the wire.
import { afterEach, describe, expect, it } from 'vitest';
import { authenticateRequest, evaluateL7, loadPolicyDocuments, selectForWaypoint } from '../src/index.ts';
import { cleanup, listen, makeKey, now, sign, type Key } from './jwt-fixtures.ts';

afterEach(cleanup);

describe('acceptance: TestL7JWT through an HTTP server (status codes on the wire)', () => {
  const waypointYaml = (jwks1: string, jwks2: string, jwks3: string) => `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: gateway-jwt, namespace: echo }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: waypoint }]
  jwtRules:
  - issuer: test-issuer-1@istio.io
    jwks: '${jwks1}'
  - issuer: test-issuer-2@istio.io
    jwks: '${jwks2}'
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: selector-jwt, namespace: echo }
spec:
  selector: { matchLabels: { app: b } }
  jwtRules:
  - issuer: test-issuer-3@istio.io
    jwks: '${jwks3}'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: echo }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: waypoint }]
  rules:
  - from: [{ source: { requestPrincipals: ["test-issuer-1@istio.io/sub-1", "test-issuer-3@istio.io/sub-1"] } }]
  - to: [{ operation: { paths: ["/healthz"] } }]
`;

  it('no token 403, issuer-1 200, issuer-3 401 (its rule is selector-based), issuer-2 403, expired 401, /healthz 200', async () => {
    const [k1, k2, k3] = await Promise.all([makeKey('RS256', 'k1'), makeKey('ES256', 'k2'), makeKey('RS256', 'k3')]);
    const jwksOf = (key: Key) => JSON.stringify({ keys: [key.jwk] });
    const loaded = loadPolicyDocuments(waypointYaml(jwksOf(k1), jwksOf(k2), jwksOf(k3)), { file: 'waypoint-jwt.yaml' });
    expect(loaded.problems).toEqual([]);
    const target = {
      rootNamespace: 'istio-system',
      gateway: { name: 'waypoint', namespace: 'echo' },
      service: { name: 'b', namespace: 'echo' },
    };
    const authentications = selectForWaypoint(loaded.requestAuthentications, target);
    const authorizations = selectForWaypoint(loaded.authorizationPolicies, target);
    expect(authentications.map((p) => p.name)).toEqual(['gateway-jwt']);

    const base = await listen((request, response) => {
      void (async () => {
        const attributes = {
          method: request.method,
          path: request.url,
          headers: request.headers as Record<string, string>,
        };
        const authn = await authenticateRequest(authentications, attributes, { now });
        if (authn.kind === 'rejected') {
          response
            .writeHead(401, { 'www-authenticate': 'Bearer realm="echo", error="invalid_token"' })
            .end(authn.reason);
          return;
        }
        const decision = evaluateL7(authorizations, {
          ...attributes,
          host: request.headers.host,
          sourceIdentity: 'spiffe://cluster.local/ns/echo/sa/a',
          auth: authn.auth,
        });
        if (!decision.allowed) response.writeHead(403).end('RBAC: access denied');
        else response.writeHead(200).end('ok');
      })();
    });
    const call = async (path: string, token?: string) => {
      const response = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: response.status, body: await response.text() };
    };
    const sub1 = { sub: 'sub-1' };
    expect(await call('/')).toEqual({ status: 403, body: 'RBAC: access denied' });
    expect((await call('/', await sign(k1, { iss: 'test-issuer-1@istio.io', ...sub1 }))).status).toBe(200);
    expect(await call('/', await sign(k3, { iss: 'test-issuer-3@istio.io', ...sub1 }))).toEqual({
      status: 401,
      body: 'Jwt issuer is not configured',
    });
    expect((await call('/', await sign(k2, { iss: 'test-issuer-2@istio.io', ...sub1 }))).status).toBe(403);
    expect(await call('/', await sign(k1, { iss: 'test-issuer-1@istio.io', ...sub1 }, -3600))).toEqual({
      status: 401,
      body: 'Jwt is expired',
    });
    expect((await call('/healthz')).status).toBe(200);
  });
});
