// Node tokens: minted by the control plane, checked by the CA.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { NodeTokenIssuer, NodeTokenVerifier } from './tokens.ts';

const ztunnel = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
const context = { clusterId: 'Kubernetes' };

describe('node tokens', () => {
  it('round-trips node, identity and the impersonation right', async () => {
    const issuer = await NodeTokenIssuer.create();
    const verifier = issuer.verifier();
    await expect(verifier.verify(await issuer.issue({ node: 'node-a', identity: ztunnel }), context)).resolves.toEqual({
      identity: ztunnel,
      node: 'node-a',
      mayImpersonate: true,
    });
    const workload = await issuer.issue({
      node: 'node-a',
      identity: 'spiffe://cluster.local/ns/a/sa/b',
      mayImpersonate: false,
    });
    await expect(verifier.verify(workload, context)).resolves.toMatchObject({ mayImpersonate: false });
  });

  it('refuses expired, forged, foreign-audience, wrong-cluster and garbage tokens', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const issuer = await NodeTokenIssuer.create({ clock });
    const verifier = issuer.verifier({ clockToleranceSeconds: 0 });
    const token = await issuer.issue({ node: 'node-a', identity: ztunnel, ttlSeconds: 60 });
    now += 61_000;
    await expect(verifier.verify(token, context)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });

    const forger = await NodeTokenIssuer.create();
    await expect(
      issuer.verifier().verify(await forger.issue({ node: 'node-a', identity: ztunnel }), context),
    ).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const foreign = await NodeTokenIssuer.create({ audience: 'something-else' });
    const foreignVerifier = new NodeTokenVerifier({ publicKey: foreign.publicKey });
    await expect(
      foreignVerifier.verify(await foreign.issue({ node: 'n', identity: ztunnel }), context),
    ).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const other = await issuer.issue({ node: 'n', identity: ztunnel, clusterId: 'east' });
    await expect(issuer.verifier().verify(other, context)).rejects.toMatchObject({ code: 'TOKEN_WRONG_CLUSTER' });
    await expect(issuer.verifier().verify(other, { clusterId: 'east' })).resolves.toMatchObject({ node: 'n' });
    await expect(issuer.verifier().verify('not.a.jwt', context)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(issuer.verifier().verify('', context)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('refuses tokens signed with another algorithm or missing node claims', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const verifier = new NodeTokenVerifier({ publicKey });
    const base = new SignJWT({ cluster: 'Kubernetes' })
      .setIssuer('ambient-ts-controlplane')
      .setAudience('istio-ca')
      .setSubject(ztunnel)
      .setExpirationTime('1h');
    await expect(
      verifier.verify(await base.setProtectedHeader({ alg: 'ES256' }).sign(privateKey), context),
    ).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: ztunnel, node: 'n', cluster: 'Kubernetes', iss: 'ambient-ts-controlplane', aud: 'istio-ca' })).toString('base64url')}.`;
    await expect(verifier.verify(unsigned, context)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const sameKey = await new NodeTokenIssuer(privateKey).issue({ node: 'n', identity: ztunnel });
    await expect(verifier.verify(sameKey, context)).resolves.toMatchObject({ node: 'n' });
  });

  it('needs a P-256 key, a node and a SPIFFE identity to issue', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => new NodeTokenIssuer(rsa)).toThrow(/P-256/);
    const issuer = await NodeTokenIssuer.create();
    await expect(issuer.issue({ node: '', identity: ztunnel })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(issuer.issue({ node: 'n', identity: 'ztunnel' })).rejects.toMatchObject({ code: 'IDENTITY_INVALID' });
  });
});
