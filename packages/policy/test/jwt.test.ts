// RequestAuthentication with real signed tokens (RS256, ES256) and a JWKS server on port 0.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateRequest,
  evaluateL7,
  JwksCache,
  type AuthenticateOptions,
  type RequestAuthenticationPolicy,
} from '../src/index.ts';
import {
  bearer,
  cleanup,
  clock,
  listen,
  makeKey,
  now,
  requestAuthn,
  servers,
  sign,
  T0,
  type Key,
} from './jwt-fixtures.ts';

// ---- a JWKS server on port 0 ----
let jwksKeys: Record<string, unknown>[] = [];
let jwksFetches = 0;
async function jwksServer(): Promise<string> {
  const base = await listen((request, response) => {
    if (request.url === '/jwks') {
      jwksFetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: jwksKeys }));
    } else if (request.url === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
    } else if (request.url === '/hang') {
      // never answers: the fetch must time out
    } else {
      response.writeHead(404).end();
    }
  });
  return base;
}

afterEach(async () => {
  await cleanup();
  jwksFetches = 0;
});

let rsa: Key;
let ec: Key;
let ecRotated: Key;
beforeAll(async () => {
  [rsa, ec, ecRotated] = await Promise.all([
    makeKey('RS256', 'rsa-1'),
    makeKey('ES256', 'ec-1'),
    makeKey('ES256', 'ec-2'),
  ]);
});

describe('inline JWKS (RS256)', () => {
  const issuer = 'https://issuer.example';
  let policy: RequestAuthenticationPolicy;
  beforeAll(() => {
    policy = requestAuthn([{ issuer, audiences: ['api'], jwks: JSON.stringify({ keys: [rsa.jwk] }) }]);
  });
  const options: AuthenticateOptions = { now };

  it('a valid token gives the request principal iss/sub and the claims', async () => {
    const token = await sign(rsa, { iss: issuer, sub: 'alice', aud: 'api', scope: 'read write', azp: 'cli' });
    const result = await authenticateRequest([policy], bearer(token), options);
    expect(result).toMatchObject({
      kind: 'authenticated',
      issuer,
      subject: 'alice',
      auth: {
        principal: 'https://issuer.example/alice',
        audiences: ['api'],
        presenter: 'cli',
        claims: { scope: ['read', 'write'] },
      },
      headersToRemove: ['authorization'],
    });
    const decision = evaluateL7([], { path: '/', auth: result.auth });
    expect(decision.allowed).toBe(true);
  });

  it('no token passes without a principal', async () => {
    expect(await authenticateRequest([policy], { path: '/' }, options)).toEqual({ kind: 'anonymous' });
  });

  it.each([
    ['expired', { sub: 'a', aud: 'api' }, -7200, 'Jwt is expired'],
    ['wrong audience', { sub: 'a', aud: 'other' }, 3600, 'Audiences in Jwt are not allowed'],
    ['unknown issuer', { iss: 'https://other.example', sub: 'a', aud: 'api' }, 3600, 'Jwt issuer is not configured'],
  ])('%s → 401', async (_, claims, lifetime, reason) => {
    const token = await sign(rsa, { iss: issuer, ...claims }, lifetime);
    expect(await authenticateRequest([policy], bearer(token), options)).toEqual({
      kind: 'rejected',
      status: 401,
      reason,
      issuer: (claims as { iss?: string }).iss ?? issuer,
    });
  });

  it('a bad signature → 401', async () => {
    const token = await sign(ec, { iss: issuer, sub: 'a', aud: 'api' });
    const forged = `${token.split('.').slice(0, 2).join('.')}.${(await sign(rsa, { iss: issuer, sub: 'b', aud: 'api' })).split('.')[2]}`;
    const result = await authenticateRequest([policy], bearer(forged), options);
    expect(result).toMatchObject({ kind: 'rejected', status: 401 });
  });

  it('not a JWT → 401', async () => {
    expect(await authenticateRequest([policy], bearer('not-a-token'), options)).toMatchObject({
      kind: 'rejected',
      reason: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
    });
  });

  it('tolerates 60 s of clock skew, not more', async () => {
    const token = await sign(rsa, { iss: issuer, sub: 'a', aud: 'api' }, 10);
    clock.ms = T0 + 50_000;
    expect((await authenticateRequest([policy], bearer(token), options)).kind).toBe('authenticated');
    clock.ms = T0 + 80_000;
    expect((await authenticateRequest([policy], bearer(token), options)).kind).toBe('rejected');
  });
});

describe('jwksUri (ES256): fetched, cached, refreshed on unknown kid', () => {
  const issuer = 'https://ec.example';

  it('fetches once and serves later tokens from the cache until it expires', async () => {
    const base = await jwksServer();
    jwksKeys = [ec.jwk];
    const jwks = new JwksCache({ now });
    const policy = requestAuthn([{ issuer, jwksUri: `${base}/jwks` }]);
    for (const sub of ['a', 'b']) {
      const result = await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub })), { jwks, now });
      expect(result).toMatchObject({ kind: 'authenticated', auth: { principal: `${issuer}/${sub}` } });
    }
    expect(jwksFetches).toBe(1);
    clock.ms = T0 + 301_000;
    await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub: 'c' })), { jwks, now });
    expect(jwksFetches).toBe(2);
  });

  it('refetches when a token names an unknown kid (key rotation), at most once per cooldown', async () => {
    const base = await jwksServer();
    jwksKeys = [ec.jwk];
    const jwks = new JwksCache({ now, unknownKidCooldownMs: 30_000 });
    const policy = requestAuthn([{ issuer, jwksUri: `${base}/jwks` }]);
    expect(
      (await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub: 'a' })), { jwks, now })).kind,
    ).toBe('authenticated');
    jwksKeys = [ec.jwk, ecRotated.jwk];
    const rotated = await sign(ecRotated, { iss: issuer, sub: 'b' });
    expect((await authenticateRequest([policy], bearer(rotated), { jwks, now })).kind).toBe('authenticated');
    expect(jwksFetches).toBe(2);

    const unknown = await makeKey('ES256', 'ec-unknown');
    const result = await authenticateRequest([policy], bearer(await sign(unknown, { iss: issuer, sub: 'c' })), {
      jwks,
      now,
    });
    expect(result).toMatchObject({ kind: 'rejected', reason: "Jwks doesn't have key to match kid or alg from Jwt" });
    expect(jwksFetches).toBe(2); // within the cooldown: no refetch
    clock.ms = T0 + 31_000;
    await authenticateRequest([policy], bearer(await sign(unknown, { iss: issuer, sub: 'c' })), { jwks, now });
    expect(jwksFetches).toBe(3);
  });

  it('a JWKS that does not answer in time → 401 "Jwks remote fetch is failed"', async () => {
    const base = await jwksServer();
    const policy = requestAuthn([{ issuer, jwksUri: `${base}/hang`, timeout: '0.2s' }]);
    const result = await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub: 'a' })), {
      jwks: new JwksCache({ now }),
      now,
    });
    expect(result).toEqual({ kind: 'rejected', status: 401, reason: 'Jwks remote fetch is failed', issuer });
  });

  it('finds keys by OIDC discovery when neither jwks nor jwksUri is set', async () => {
    const base = await jwksServer();
    jwksKeys = [ec.jwk];
    const policy = requestAuthn([{ issuer: base }]);
    const result = await authenticateRequest([policy], bearer(await sign(ec, { iss: base, sub: 'a' })), {
      jwks: new JwksCache({ now }),
      now,
    });
    expect(result).toMatchObject({ kind: 'authenticated', auth: { principal: `${base}/a` } });
  });

  it('keeps using cached keys when a refresh fails', async () => {
    const base = await jwksServer();
    jwksKeys = [ec.jwk];
    const jwks = new JwksCache({ now });
    const policy = requestAuthn([{ issuer, jwksUri: `${base}/jwks` }]);
    await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub: 'a' })), { jwks, now });
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    clock.ms = T0 + 301_000;
    const result = await authenticateRequest([policy], bearer(await sign(ec, { iss: issuer, sub: 'b' })), {
      jwks,
      now,
    });
    expect(result.kind).toBe('authenticated');
    expect(jwksFetches).toBe(1); // the refresh failed; the stale set was used
  });
});

describe('token locations and outputs', () => {
  const issuer = 'https://issuer.example';

  it('headers with a prefix, query parameters and cookies', async () => {
    const policy = requestAuthn([
      {
        issuer,
        jwks: JSON.stringify({ keys: [rsa.jwk] }),
        fromHeaders: [{ name: 'X-Jwt', prefix: 'Token ' }],
        fromParams: ['jwt'],
        fromCookies: ['session'],
      },
    ]);
    const token = await sign(rsa, { iss: issuer, sub: 'a' });
    for (const request of [
      { headers: { 'x-jwt': `Token ${token}` } },
      { path: `/x?jwt=${token}` },
      { headers: { cookie: `a=1; session=${token}` } },
    ]) {
      expect((await authenticateRequest([policy], request, { now })).kind).toBe('authenticated');
    }
    // The prefix must match exactly; the default locations are not used when locations are configured.
    expect((await authenticateRequest([policy], { headers: { 'x-jwt': `Bearer ${token}` } }, { now })).kind).toBe(
      'anonymous',
    );
    expect((await authenticateRequest([policy], bearer(token), { now })).kind).toBe('anonymous');
  });

  it('default locations: Authorization Bearer, then access_token', async () => {
    const policy = requestAuthn([{ issuer, jwks: JSON.stringify({ keys: [rsa.jwk] }) }]);
    const token = await sign(rsa, { iss: issuer, sub: 'a' });
    expect((await authenticateRequest([policy], { path: `/?access_token=${token}` }, { now })).kind).toBe(
      'authenticated',
    );
    expect((await authenticateRequest([policy], { headers: { authorization: `bearer ${token}` } }, { now })).kind).toBe(
      'authenticated',
    );
  });

  it('outputPayloadToHeader, outputClaimToHeaders and forwardOriginalToken', async () => {
    const policy = requestAuthn([
      {
        issuer,
        jwks: JSON.stringify({ keys: [rsa.jwk] }),
        outputPayloadToHeader: 'x-jwt-payload',
        outputClaimToHeaders: [
          { header: 'x-sub', claim: 'sub' },
          { header: 'x-team', claim: 'org.team' },
          { header: 'x-admin', claim: 'admin' },
          { header: 'x-list', claim: 'groups' },
        ],
      },
    ]);
    const token = await sign(rsa, { iss: issuer, sub: 'alice', org: { team: 'core' }, admin: true, groups: ['a'] });
    const result = await authenticateRequest([policy], bearer(token), { now });
    if (result.kind !== 'authenticated') throw new Error(JSON.stringify(result));
    expect(result.headersToSet).toEqual({
      'x-jwt-payload': token.split('.')[1],
      'x-sub': 'alice',
      'x-team': 'core',
      'x-admin': 'true',
    });
    expect(JSON.parse(Buffer.from(result.headersToSet['x-jwt-payload']!, 'base64url').toString())).toMatchObject({
      sub: 'alice',
    });
    expect(result.headersToRemove).toEqual(['authorization']);
    const forwarding = requestAuthn([
      { issuer, jwks: JSON.stringify({ keys: [rsa.jwk] }), forwardOriginalToken: true },
    ]);
    expect(await authenticateRequest([forwarding], bearer(token), { now })).toMatchObject({ headersToRemove: [] });
  });

  it('CORS preflight skips JWT checks', async () => {
    const policy = requestAuthn([{ issuer, jwks: JSON.stringify({ keys: [rsa.jwk] }) }]);
    const result = await authenticateRequest(
      [policy],
      {
        method: 'OPTIONS',
        headers: { authorization: 'Bearer junk', origin: 'https://a', 'access-control-request-method': 'GET' },
      },
      { now },
    );
    expect(result.kind).toBe('anonymous');
  });

  it("a rule with an unusable JWKS rejects its issuer's tokens (fail closed)", async () => {
    const policy = requestAuthn([{ issuer, jwks: JSON.stringify({ keys: [rsa.jwk] }) }]);
    const broken = { ...policy, jwtRules: [{ ...policy.jwtRules[0]!, unusable: 'jwks parse error' }] };
    const result = await authenticateRequest([broken], bearer(await sign(rsa, { iss: issuer, sub: 'a' })), { now });
    expect(result).toMatchObject({ kind: 'rejected', status: 401 });
  });
});
