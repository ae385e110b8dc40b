// The token issuer the example's RequestAuthentication trusts: a JWKS endpoint on the jwksUri of the mesh
// file and tokens minted with jose (RS256).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface JwtIssuer {
  issuer: string;
  mint(subject: string, options?: { expiresInSeconds?: number; audience?: string }): Promise<string>;
  close(): void;
}

export async function startJwtIssuer(issuer: string, jwksUri: string): Promise<JwtIssuer> {
  const url = new URL(jwksUri);
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'local-mesh', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((request, response) => {
    if (request.url !== url.pathname) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  server.listen({ host: url.hostname, port: Number(url.port || 80) });
  const [error] = await Promise.race([once(server, 'listening').then(() => [undefined]), once(server, 'error')]);
  if (error)
    throw new Error(
      `JWKS server for ${issuer} cannot listen on ${url.host} (${(error as NodeJS.ErrnoException).code}): another process uses that port`,
    );
  const key: CryptoKey = privateKey;
  return {
    issuer,
    mint: (subject, options = {}) => {
      const jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'local-mesh' })
        .setIssuer(issuer)
        .setSubject(subject)
        .setIssuedAt();
      if (options.audience) jwt.setAudience(options.audience);
      return jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 3600)).sign(key);
    },
    close: () => server.close(),
  };
}
