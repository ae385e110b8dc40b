// Shared by the JWT tests: real keys, tokens signed against a fake clock, HTTP servers on port 0.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { parseRequestAuthentication, type RequestAuthenticationPolicy } from '../src/index.ts';

export interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: Record<string, unknown>;
}

export async function makeKey(alg: Key['alg'], kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export const T0 = 1_800_000_000_000; // fake "now" (ms)
export const clock = { ms: T0 };
export const now = (): number => clock.ms;

export function sign(key: Key, claims: JWTPayload, lifetimeSeconds = 3600): Promise<string> {
  const iat = Math.floor(clock.ms / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(key.privateKey);
}

export const servers: Server[] = [];

export async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** For afterEach: close every server (and its keep-alive connections) and reset the clock. */
export async function cleanup(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  clock.ms = T0;
}

export function requestAuthn(jwtRules: unknown[]): RequestAuthenticationPolicy {
  return parseRequestAuthentication({
    kind: 'RequestAuthentication',
    metadata: { name: 'jwt', namespace: 'ns' },
    spec: { jwtRules },
  });
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, path: '/' });
