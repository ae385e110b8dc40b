// RequestAuthentication in the waypoint (l7-facts §3): a missing token passes authentication (then the
// policy decides), a valid RS256 (JWKS over HTTP) or ES256 (inline JWKS) token is accepted and stripped
// before forwarding, and any present-but-invalid token (expired, bad signature, unknown issuer) gets 401.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { gatewayTarget, l7, service, serviceParent, serviceTarget, workload } from '../helpers/resources.ts';

const RS = 'https://issuer-rs.example';
const ES = 'https://issuer-es.example';
const IGNORED = 'https://issuer-selector.example';

let env: TestEnv;
let jwks: Server;
let rsKey: CryptoKey;
let esKey: CryptoKey;
let strangerKey: CryptoKey;
const echo = '10.7.3.1:80';

async function token(
  key: CryptoKey,
  alg: string,
  issuer: string,
  subject: string,
  expires: string | number = '1h',
): Promise<string> {
  return new SignJWT({ group: 'dev' })
    .setProtectedHeader({ alg, kid: alg })
    .setIssuer(issuer)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(key);
}

beforeAll(async () => {
  const rs = await generateKeyPair('RS256');
  const es = await generateKeyPair('ES256');
  rsKey = rs.privateKey;
  esKey = es.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const rsJwk: JWK = { ...(await exportJWK(rs.publicKey)), kid: 'RS256', alg: 'RS256', use: 'sig' };
  const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'ES256', alg: 'ES256', use: 'sig' };
  jwks = createServer((_req, res) =>
    res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [rsJwk] })),
  );
  jwks.listen(0, '127.0.0.1');
  await once(jwks, 'listening');
  const jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;

  env = await TestEnv.create('127.7.3');
  await env.backend('echo-v1', '127.7.3.11', { sa: 'echo' });
  await env.backend('echo-v2', '127.7.3.12', { sa: 'echo' });
  env.push(
    [
      service({ name: 'echo', vip: '10.7.3.1', ports: [{ port: 80, targetPort: 8080, appProtocol: 'HTTP11' }] }),
      service({ name: 'echo-v2', vip: '10.7.3.3', ports: [{ port: 80, targetPort: 8080 }], waypoint: false }),
      workload({ name: 'echo-v1', ip: '127.7.3.11', sa: 'echo', services: { echo: [[80, 8080]] } }),
      workload({ name: 'echo-v2', ip: '127.7.3.12', sa: 'echo', services: { 'echo-v2': [[80, 8080]] } }),
    ],
    [
      l7('RequestAuthentication', 'jwt', {
        targetRefs: [gatewayTarget],
        jwtRules: [
          { issuer: RS, jwksUri },
          { issuer: ES, jwks: JSON.stringify({ keys: [esJwk] }) },
        ],
      }),
      // Selector-based: waypoints ignore it, so its issuer is unknown here (Istio's TestL7JWT).
      l7('RequestAuthentication', 'selector-jwt', {
        selector: { matchLabels: { app: 'echo' } },
        jwtRules: [{ issuer: IGNORED, jwks: JSON.stringify({ keys: [rsJwk] }) }],
      }),
      l7('AuthorizationPolicy', 'require-jwt', {
        targetRefs: [serviceTarget('echo')],
        rules: [
          { from: [{ source: { requestPrincipals: [`${RS}/sub-1`, `${ES}/*`, `${IGNORED}/sub-1`] } }] },
          { to: [{ operation: { paths: ['/healthz'] } }] },
          {
            to: [{ operation: { paths: ['/dev-only'] } }],
            when: [{ key: 'request.auth.claims[group]', values: ['dev'] }],
          },
        ],
      }),
      l7('HTTPRoute', 'v2', {
        parentRefs: [serviceParent('echo')],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'echo-v2', port: 80 }] },
          { backendRefs: [{ name: 'echo', port: 80 }] },
        ],
      }),
    ],
  );
  await env.startWaypoint();
});
afterAll(async () => {
  await env?.close();
  jwks?.close();
});

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

it('without a token: authentication passes and the policy decides (403 without a request principal)', async () => {
  expect((await env.request({ authority: echo, path: '/healthz' })).status).toBe(200);
  const denied = await env.request({ authority: echo, path: '/' });
  expect(denied.status).toBe(403);
  expect(denied.body).toBe('RBAC: access denied');
});

it('accepts a valid RS256 token (JWKS fetched over HTTP) and strips it before forwarding', async () => {
  const reply = await env.request({
    authority: echo,
    path: '/',
    headers: bearer(await token(rsKey, 'RS256', RS, 'sub-1')),
  });
  expect(reply.status).toBe(200);
  expect(reply.echo?.name).toBe('echo-v1');
  expect(reply.echo?.headers['authorization']).toBeUndefined();
});

it('accepts a valid ES256 token (inline JWKS) and routes the request', async () => {
  const reply = await env.request({
    authority: echo,
    path: '/v2/x',
    headers: bearer(await token(esKey, 'ES256', ES, 'anyone')),
  });
  expect(reply.status).toBe(200);
  expect(reply.echo?.name).toBe('echo-v2');
});

it('gives JWT claims to authorization', async () => {
  expect(
    (
      await env.request({
        authority: echo,
        path: '/dev-only',
        headers: bearer(await token(rsKey, 'RS256', RS, 'sub-2')),
      })
    ).status,
  ).toBe(200);
  expect(
    (await env.request({ authority: echo, path: '/other', headers: bearer(await token(rsKey, 'RS256', RS, 'sub-2')) }))
      .status,
  ).toBe(403);
});

it('answers 401 to a present but invalid token: expired, bad signature, unknown issuer, garbage', async () => {
  const expired = await env.request({
    authority: echo,
    path: '/healthz',
    headers: bearer(await token(rsKey, 'RS256', RS, 'sub-1', Math.floor(Date.now() / 1000) - 3600)),
  });
  expect(expired.status).toBe(401);
  expect(expired.body).toBe('Jwt is expired');
  expect(
    (
      await env.request({
        authority: echo,
        path: '/healthz',
        headers: bearer(await token(strangerKey, 'RS256', RS, 'sub-1')),
      })
    ).status,
  ).toBe(401);
  const unknown = await env.request({
    authority: echo,
    path: '/healthz',
    headers: bearer(await token(rsKey, 'RS256', IGNORED, 'sub-1')),
  });
  expect(unknown.status).toBe(401);
  expect(unknown.body).toBe('Jwt issuer is not configured');
  expect((await env.request({ authority: echo, path: '/healthz', headers: bearer('not.a.jwt') })).status).toBe(401);
});

it('counts the 401s and 403s', async () => {
  const text = await env.metrics();
  for (const code of [200, 401, 403])
    expect(text).toMatch(new RegExp(`istio_requests_total\\{[^}]*response_code="${code}"`));
});
