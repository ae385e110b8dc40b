// The CA server over real gRPC and TLS on port 0: node authorization, authentication, bad requests,
// lifetimes, and serving next to other services on one port.
import { X509Certificate } from 'node:crypto';
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsr, generatePrivateKey } from '@ambient-ts/pki';
import { forgeCsr } from '@ambient-ts/pki/testing';
import { TrustBundle, verifyX509Svid } from '@ambient-ts/spiffe';
import {
  addCaService,
  CertificateAuthority,
  errorCodeTrailer,
  NodeTokenIssuer,
  NodeTokenVerifier,
} from '@ambient-ts/ca';
import { IstioCaClient, ManualClock, type IstioCaClientOptions } from '../src/index.ts';
import { rawCall, rejectionOf } from './fixtures.ts';
import { dbId, independentRequest, startCa, webId, ztunnelId, type TestCa } from './harness.ts';

let ca: TestCa | undefined;
const clients: IstioCaClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await ca?.close();
  ca = undefined;
});

function client(test: TestCa, options: Partial<IstioCaClientOptions>): IstioCaClient {
  const created = new IstioCaClient({ address: test.address, rootCert: test.server.rootCertsPem, ...options });
  clients.push(created);
  return created;
}

function requestBytes(csr: string, metadata?: Record<string, string>, validity = 3600): Buffer {
  const fields = metadata
    ? { fields: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, { string_value: value }])) }
    : undefined;
  const message = independentRequest.fromObject({
    csr,
    validity_duration: validity,
    ...(fields ? { metadata: fields } : {}),
  });
  return Buffer.from(independentRequest.encode(message).finish());
}

function refusal(error: ServiceError): { status: string; code: unknown; details: string } {
  return { status: status[error.code], code: error.metadata.get(errorCodeTrailer)[0], details: error.details };
}

describe('node authorization over gRPC + TLS', () => {
  it('grants own identity and same-node workloads; refuses other-node, unknown, foreign and unknown-node requests', async () => {
    ca = await startCa();
    const nodeA = client(ca, { token: await ca.token('node-a'), impersonate: true });
    const outcome = async (caClient: IstioCaClient, identity: string): Promise<string> => {
      try {
        const cert = await caClient.fetchCertificate(identity);
        return cert.identity === identity ? 'issued' : 'wrong';
      } catch (error) {
        const { code, reason } = error as { code: string; reason?: string };
        return `${code}/${reason}`;
      }
    };
    expect(await outcome(nodeA, ztunnelId)).toBe('issued');
    expect(await outcome(nodeA, webId)).toBe('issued');
    expect(await outcome(nodeA, dbId)).toBe('CA_PERMISSION_DENIED/DENIED_NOT_ON_NODE');
    expect(await outcome(nodeA, 'spiffe://cluster.local/ns/default/sa/nobody')).toBe(
      'CA_PERMISSION_DENIED/DENIED_NOT_ON_NODE',
    );
    expect(await outcome(nodeA, 'spiffe://other.local/ns/default/sa/web')).toBe(
      'CA_PERMISSION_DENIED/DENIED_TRUST_DOMAIN',
    );
    const nodeZ = client(ca, { token: await ca.token('node-z'), impersonate: true });
    expect(await outcome(nodeZ, webId)).toBe('CA_PERMISSION_DENIED/DENIED_UNKNOWN_NODE');
    expect(await outcome(nodeZ, ztunnelId)).toBe('issued');
    // Dedicated mode (no ImpersonatedIdentity): only the caller's own identity.
    const dedicated = client(ca, { token: await ca.token('node-a', { identity: webId, mayImpersonate: false }) });
    expect(await outcome(dedicated, webId)).toBe('issued');
    expect(await outcome(dedicated, dbId)).toBe('CA_PERMISSION_DENIED/DENIED_NOT_OWN_IDENTITY');
    // The view is live: a workload moving to node-a is granted from then on.
    ca.view.add('node-a', dbId);
    expect(await outcome(nodeA, dbId)).toBe('issued');
    const refused = ca.events.filter((event) => event.kind === 'refused');
    expect(refused.map((event) => event.kind === 'refused' && event.code)).toEqual([
      'DENIED_NOT_ON_NODE',
      'DENIED_NOT_ON_NODE',
      'DENIED_TRUST_DOMAIN',
      'DENIED_UNKNOWN_NODE',
      'DENIED_NOT_OWN_IDENTITY',
    ]);
  });

  it('refusal messages say what was refused and why', async () => {
    ca = await startCa();
    const nodeA = client(ca, { token: await ca.token('node-a'), impersonate: true });
    const error = await rejectionOf(nodeA.fetchCertificate(dbId));
    expect(error.message).toContain('PERMISSION_DENIED');
    expect(error.message).toContain(`refused to issue ${dbId} to ${ztunnelId} on node "node-a"`);
    expect(error.message).toContain('no workload with this identity runs on node "node-a"');
  });

  it('issues certificates that pass strict SVID checks, with ECDSA and RSA keys', async () => {
    ca = await startCa();
    for (const keyAlgorithm of ['ec-p256', 'rsa-2048'] as const) {
      const cert = await client(ca, {
        token: await ca.token('node-a'),
        impersonate: true,
        keyAlgorithm,
      }).fetchCertificate(webId);
      const verified = verifyX509Svid(cert.certChainPem, TrustBundle.fromPem('cluster.local', cert.rootCertsPem));
      expect(verified.spiffeId.toString()).toBe(webId);
      expect(new X509Certificate(cert.certChainPem).publicKey.asymmetricKeyType).toBe(
        keyAlgorithm === 'ec-p256' ? 'ec' : 'rsa',
      );
    }
  });
});

describe('authentication', () => {
  it('refuses missing, expired, forged and wrong-cluster tokens with UNAUTHENTICATED', async () => {
    const clock = new ManualClock(Date.now() - 2 * 86_400_000);
    const past = await NodeTokenIssuer.create({ clock });
    // The CA checks with the real clock; tokens are minted two days in the past.
    ca = await startCa({ issuer: past, tokenVerifier: new NodeTokenVerifier({ publicKey: past.publicKey }) });
    const reasons = async (options: Partial<IstioCaClientOptions>): Promise<string> => {
      const error = await rejectionOf(client(ca!, { impersonate: true, ...options }).fetchCertificate(webId));
      return `${error.code}/${error.reason}`;
    };
    expect(await reasons({})).toBe('CA_UNAUTHENTICATED/TOKEN_MISSING');
    expect(await reasons({ token: await past.issue({ node: 'node-a', identity: ztunnelId, ttlSeconds: 3600 }) })).toBe(
      'CA_UNAUTHENTICATED/TOKEN_EXPIRED',
    );
    const forger = await NodeTokenIssuer.create();
    expect(await reasons({ token: await forger.issue({ node: 'node-a', identity: ztunnelId }) })).toBe(
      'CA_UNAUTHENTICATED/TOKEN_INVALID',
    );
    const valid = await past.issue({ node: 'node-a', identity: ztunnelId, ttlSeconds: 5 * 86_400 });
    expect(await reasons({ token: valid, clusterId: 'east' })).toBe('CA_UNAUTHENTICATED/TOKEN_WRONG_CLUSTER');
    expect(await reasons({ token: 'garbage' })).toBe('CA_UNAUTHENTICATED/TOKEN_INVALID');
    await expect(client(ca, { token: valid, impersonate: true }).fetchCertificate(webId)).resolves.toMatchObject({
      identity: webId,
    });
  });
});

describe('bad requests get INVALID_ARGUMENT and the CA keeps serving', () => {
  it('refuses malformed bodies and CSRs with the specific code', async () => {
    ca = await startCa();
    const headers = { authorization: `Bearer ${await ca.token('node-a')}` };
    const target = `127.0.0.1:${ca.port}`;
    const root = ca.server.rootCertsPem;
    const key = await generatePrivateKey();
    const cases: [string, Buffer, string][] = [
      ['garbage body', Buffer.from([0x0a, 0xff, 0xff, 0xff]), 'CSR_MALFORMED'],
      ['no CSR', requestBytes(''), 'CSR_MALFORMED'],
      [
        'garbage CSR',
        requestBytes('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----'),
        'CSR_MALFORMED',
      ],
      ['no SAN', requestBytes(forgeCsr({ commonName: 'web' })), 'CSR_NO_SAN'],
      [
        'two SANs',
        requestBytes(
          forgeCsr({
            sans: [
              { type: 6, value: webId },
              { type: 6, value: dbId },
            ],
          }),
          { ImpersonatedIdentity: webId },
        ),
        'CSR_MULTIPLE_SANS',
      ],
      ['DNS SAN', requestBytes(forgeCsr({ sans: [{ type: 2, value: 'web.default.svc' }] })), 'CSR_NOT_SPIFFE'],
      [
        'impersonation differs from CSR',
        requestBytes(createCsr(webId, key), { ImpersonatedIdentity: dbId }),
        'CSR_IDENTITY_MISMATCH',
      ],
    ];
    const results = await Promise.all(
      cases.map(async ([name, body, code]) => {
        const result = await rawCall(target, root, body, headers);
        return [name, result.ok ? 'ok' : refusal(result.error), code] as const;
      }),
    );
    for (const [name, got, code] of results) {
      expect({ name, got }).toMatchObject({ name, got: { status: 'INVALID_ARGUMENT', code } });
    }
    // Authentication comes first: an anonymous garbage request learns nothing about its CSR.
    const anonymous = await rawCall(target, root, Buffer.from([0xff]), {});
    expect(anonymous.ok ? 'ok' : refusal(anonymous.error)).toMatchObject({
      status: 'UNAUTHENTICATED',
      code: 'TOKEN_MISSING',
    });
    // A well-formed request from a forge-built CSR still succeeds.
    const good = await rawCall(
      target,
      root,
      requestBytes(forgeCsr({ sans: [{ type: 6, value: webId }] }), { ImpersonatedIdentity: webId }),
      headers,
    );
    expect(good.ok).toBe(true);
  });

  it('caps the lifetime and applies the default when none is asked for', async () => {
    ca = await startCa({ maxTtlSeconds: 7200, defaultTtlSeconds: 1800 });
    const token = await ca.token('node-a');
    const lifetime = (pem: string): number => {
      const leaf = new X509Certificate(pem);
      return Math.round((leaf.validToDate.getTime() - leaf.validFromDate.getTime()) / 1000);
    };
    const asked = await client(ca, { token, impersonate: true, ttlSeconds: 3600 }).fetchCertificate(webId);
    expect(lifetime(asked.certChainPem)).toBeGreaterThanOrEqual(3600);
    expect(lifetime(asked.certChainPem)).toBeLessThanOrEqual(3601);
    const capped = await client(ca, { token, impersonate: true, ttlSeconds: 90 * 86_400 }).fetchCertificate(webId);
    expect(lifetime(capped.certChainPem)).toBeLessThanOrEqual(7201);
    const key = await generatePrivateKey();
    const result = await rawCall(
      `127.0.0.1:${ca.port}`,
      ca.server.rootCertsPem,
      requestBytes(createCsr(ztunnelId, key), undefined, 0),
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(result.ok).toBe(true);
    const events = ca.events.filter((event) => event.kind === 'issued');
    const last = events[events.length - 1];
    expect(last?.kind === 'issued' && Math.round((last.notAfter.getTime() - Date.now()) / 1000)).toBeLessThanOrEqual(
      1800,
    );
  });
});

describe('a broken CA', () => {
  it('says so when its signing certificate has expired, and keeps answering', async () => {
    const clock = new ManualClock();
    const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local', ttlSeconds: 600, clock });
    ca = await startCa({ authority });
    const nodeA = client(ca, { token: await ca.token('node-a'), impersonate: true });
    await expect(nodeA.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
    clock.advance(601_000);
    const error = await rejectionOf(nodeA.fetchCertificate(webId));
    expect(error).toMatchObject({ code: 'CA_CALL_FAILED', reason: 'CA_EXPIRED' });
    expect(error.message).toContain("the CA's signing certificate expired");
  });
});

describe('addCaService', () => {
  it('serves CreateCertificate next to other services on a caller-provided server (plaintext, like 15010)', async () => {
    const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const issuer = await NodeTokenIssuer.create();
    const server = new Server();
    addCaService(server, { authority, tokenVerifier: issuer.verifier() });
    server.addService(
      {
        Ping: {
          path: '/test.Other/Ping',
          requestStream: false,
          responseStream: false,
          requestSerialize: (value: Buffer) => value,
          requestDeserialize: (value: Buffer) => value,
          responseSerialize: (value: Buffer) => value,
          responseDeserialize: (value: Buffer) => value,
        },
      },
      {
        Ping: (call: { request: Buffer }, callback: (error: null, value: Buffer) => void) =>
          callback(null, call.request),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    try {
      const token = await issuer.issue({ node: 'node-a', identity: webId, mayImpersonate: false });
      const caClient = new IstioCaClient({ address: `http://127.0.0.1:${port}`, token });
      clients.push(caClient);
      await expect(caClient.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
      // The other service still answers on the same port.
      const { Client, credentials, Metadata } = await import('@grpc/grpc-js');
      const other = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
      const echoed = await new Promise<Buffer>((resolve, reject) =>
        other.makeUnaryRequest(
          '/test.Other/Ping',
          (v: Buffer) => v,
          (v: Buffer) => v,
          Buffer.from('ping'),
          new Metadata(),
          (error, value) => (error ? reject(error) : resolve(value!)),
        ),
      );
      other.close();
      expect(echoed.toString()).toBe('ping');
    } finally {
      server.forceShutdown();
    }
  });
});
