// The Istio CA client against independent servers: exact request bytes and headers, bad answers,
// TLS trust (file, inline, SYSTEM, rotation, alternate hostname), token files, and using the result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCa } from '@ambient-ts/pki/testing';
import { TrustBundle, verifyX509Svid } from '@ambient-ts/spiffe';
import { parseCsr } from '@ambient-ts/pki';
import { CertificateAuthority } from '@ambient-ts/ca';
import { IstioCaClient, type IstioCaClientOptions } from '../src/index.ts';
import { rejectionOf } from './fixtures.ts';
import { startCa, startFakeCa, webId, ztunnelId, type TestCa } from './harness.ts';

let dir: string;
const cleanups: (() => unknown)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'certs-client-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function track<T extends { close(): unknown }>(value: T): T {
  cleanups.push(() => value.close());
  return value;
}

function newClient(options: IstioCaClientOptions): IstioCaClient {
  return track(new IstioCaClient(options));
}

async function ca(options: Parameters<typeof startCa>[0] = {}): Promise<TestCa> {
  return track(await startCa(options));
}

describe('wire format (checked with independently declared messages)', () => {
  it('sends csr, validity_duration and ImpersonatedIdentity in the body, and the Istio headers', async () => {
    const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const fake = track(
      await startFakeCa((request) => {
        const csr = parseCsr(request['csr'] as string);
        return authority.signWorkload(webId, csr.publicKeyDer, 60);
      }),
    );
    const client = newClient({
      address: `http://127.0.0.1:${fake.port}`,
      token: 'tok-123',
      clusterId: 'east',
      impersonate: true,
      ttlSeconds: 7200,
      headers: { 'X-Extra': 'yes' },
    });
    const cert = await client.fetchCertificate(webId);
    expect(cert.identity).toBe(webId);
    const [call] = fake.calls;
    expect(call!.request['validity_duration']).toBe(7200);
    expect(call!.request['metadata']).toEqual({ fields: { ImpersonatedIdentity: { string_value: webId } } });
    expect(parseCsr(call!.request['csr'] as string).uris).toEqual([webId]);
    expect(call!.headers).toMatchObject({ authorization: 'Bearer tok-123', clusterid: 'east', 'x-extra': 'yes' });
  });

  it('dedicated mode sends no metadata; no token means no authorization header; clusterid defaults to Kubernetes', async () => {
    const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const fake = track(
      await startFakeCa((request) =>
        authority.signWorkload(webId, parseCsr(request['csr'] as string).publicKeyDer, 60),
      ),
    );
    await newClient({ address: `http://127.0.0.1:${fake.port}` }).fetchCertificate(webId);
    expect(fake.calls[0]!.request['metadata']).toBeUndefined();
    expect(fake.calls[0]!.request['validity_duration']).toBe(86_400);
    expect(fake.calls[0]!.headers['authorization']).toBeUndefined();
    expect(fake.calls[0]!.headers['clusterid']).toBe('Kubernetes');
  });
});

describe('bad CA answers are refused with specific errors', () => {
  it('wrong identity, leaf only, truncated chain, empty answer', async () => {
    const root = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
    const intermediate = await root.createIntermediate();
    let mode = 'wrong';
    const fake = track(
      await startFakeCa((request) => {
        const key = parseCsr(request['csr'] as string).publicKeyDer;
        if (mode === 'wrong') return root.signWorkload('spiffe://cluster.local/ns/default/sa/evil', key, 60);
        const chain = intermediate.signWorkload(webId, key, 60);
        if (mode === 'leaf-only') return [chain[0]!];
        if (mode === 'truncated') return [chain[0]!, chain[2]!];
        if (mode === 'empty') return [];
        return chain;
      }),
    );
    const client = newClient({ address: `http://127.0.0.1:${fake.port}` });
    const codes: Record<string, string | undefined> = {};
    for (const next of ['wrong', 'leaf-only', 'truncated', 'empty']) {
      mode = next;
      codes[next] = (await rejectionOf(client.fetchCertificate(webId))).code;
    }
    expect(codes).toEqual({
      wrong: 'CA_RESPONSE_WRONG_IDENTITY',
      'leaf-only': 'CA_RESPONSE_NO_ROOT',
      truncated: 'CA_RESPONSE_UNTRUSTED',
      empty: 'CA_RESPONSE_EMPTY',
    });
    mode = 'good';
    await expect(client.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
  });
});

describe('channel trust', () => {
  it('inline PEM and a root file work; a wrong root, SYSTEM roots and a closed port are CA_UNAVAILABLE', async () => {
    const test = await ca();
    const token = await test.token('node-a');
    const rootFile = join(dir, 'root-cert.pem');
    writeFileSync(rootFile, test.server.rootCertsPem);
    const base = { address: test.address, token, impersonate: true };
    await expect(
      newClient({ ...base, rootCert: test.server.rootCertsPem }).fetchCertificate(webId),
    ).resolves.toBeDefined();
    await expect(newClient({ ...base, rootCert: rootFile }).fetchCertificate(webId)).resolves.toBeDefined();
    const stranger = createCa({ commonName: 'stranger' }).certPem;
    expect((await rejectionOf(newClient({ ...base, rootCert: stranger }).fetchCertificate(webId))).code).toBe(
      'CA_UNAVAILABLE',
    );
    expect((await rejectionOf(newClient({ ...base, rootCert: 'SYSTEM' }).fetchCertificate(webId))).code).toBe(
      'CA_UNAVAILABLE',
    );
    expect(
      (await rejectionOf(newClient({ ...base, rootCert: join(dir, 'missing.pem') }).fetchCertificate(webId))).code,
    ).toBe('CA_ROOT_UNREADABLE');
    const port = test.port;
    await test.close();
    const closed = newClient({ ...base, address: `https://127.0.0.1:${port}`, rootCert: rootFile });
    expect((await rejectionOf(closed.fetchCertificate(webId))).code).toBe('CA_UNAVAILABLE');
  });

  it('rebuilds the channel when the root file changes, and keeps the old one if the file becomes unreadable', async () => {
    const test = await ca();
    const rootFile = join(dir, 'root-cert.pem');
    writeFileSync(rootFile, test.server.rootCertsPem);
    const client = newClient({
      address: test.address,
      rootCert: rootFile,
      token: await test.token('node-a'),
      impersonate: true,
    });
    await expect(client.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
    // A different root on disk: the next request handshakes anew with it (and so fails here).
    writeFileSync(rootFile, createCa({ commonName: 'other root' }).certPem);
    expect((await rejectionOf(client.fetchCertificate(webId))).code).toBe('CA_UNAVAILABLE');
    writeFileSync(rootFile, test.server.rootCertsPem);
    await expect(client.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
    rmSync(rootFile);
    await expect(client.fetchCertificate(webId)).resolves.toMatchObject({ identity: webId });
  });

  it('verifies the server against altHostname instead of the address host', async () => {
    const test = await ca({ serverNames: ['istiod.istio-system.svc'] });
    const base = {
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: await test.token('node-a'),
      impersonate: true,
    };
    await expect(
      newClient({ ...base, altHostname: 'istiod.istio-system.svc' }).fetchCertificate(webId),
    ).resolves.toBeDefined();
    expect((await rejectionOf(newClient({ ...base, altHostname: 'wrong.example' }).fetchCertificate(webId))).code).toBe(
      'CA_UNAVAILABLE',
    );
  });

  it('serves plaintext when asked (http://)', async () => {
    const test = await ca({ tls: false });
    expect(test.address).toMatch(/^http:\/\//);
    await expect(
      newClient({ address: test.address, token: await test.token('node-a') }).fetchCertificate(ztunnelId),
    ).resolves.toMatchObject({
      identity: ztunnelId,
    });
  });

  it('refuses bad options up front', () => {
    expect(() => new IstioCaClient({ address: 'ftp://x:1' })).toThrow(/https/);
    expect(() => new IstioCaClient({ address: '::not a url' })).toThrow(/address/);
    expect(() => new IstioCaClient({ address: 'localhost:15012', ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => new IstioCaClient({ address: 'localhost:15012', keyAlgorithm: 'ed25519' as never })).toThrow(
      /keyAlgorithm/,
    );
  });
});

describe('tokens and cancellation', () => {
  it('re-reads a token file on every request, and reports an unreadable one', async () => {
    const test = await ca();
    const tokenFile = join(dir, 'istio-token');
    writeFileSync(tokenFile, `${await test.token('node-a')}\n`);
    const client = newClient({
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: { file: tokenFile },
      impersonate: true,
    });
    await client.fetchCertificate(ztunnelId);
    writeFileSync(tokenFile, await test.token('node-b'));
    await client.fetchCertificate(ztunnelId);
    const nodes = test.events.map((event) => event.kind === 'issued' && event.caller.node);
    expect(nodes).toEqual(['node-a', 'node-b']);
    rmSync(tokenFile);
    expect((await rejectionOf(client.fetchCertificate(ztunnelId))).code).toBe('CA_TOKEN_UNREADABLE');
    let calls = 0;
    const fromFunction = newClient({
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: () => {
        calls += 1;
        return test.token('node-a');
      },
    });
    await fromFunction.fetchCertificate(ztunnelId);
    await fromFunction.fetchCertificate(ztunnelId);
    expect(calls).toBe(2);
  });

  it('honours an aborted signal', async () => {
    const test = await ca();
    const client = newClient({
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: await test.token('node-a'),
    });
    const controller = new AbortController();
    controller.abort();
    expect((await rejectionOf(client.fetchCertificate(ztunnelId, { signal: controller.signal }))).code).toBe('ABORTED');
    expect((await rejectionOf(client.fetchCertificate('not-an-id'))).code).toBe('IDENTITY_INVALID');
  });
});

describe('using the result', () => {
  it('two issued certificates complete an mTLS handshake and carry bytes, each side verifying the other', async () => {
    const test = await ca();
    const nodeA = newClient({
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: await test.token('node-a'),
      impersonate: true,
    });
    const nodeB = newClient({
      address: test.address,
      rootCert: test.server.rootCertsPem,
      token: await test.token('node-b'),
      impersonate: true,
    });
    const web = await nodeA.fetchCertificate(webId);
    const db = await nodeB.fetchCertificate('spiffe://cluster.local/ns/data/sa/db');
    const server = createTlsServer(
      {
        cert: db.certChainPem,
        key: db.privateKeyPem,
        ca: db.rootCertsPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket: TLSSocket) => {
        const peer = verifyX509Svid(
          socket.getPeerCertificate(true),
          TrustBundle.fromPem('cluster.local', db.rootCertsPem),
        );
        socket.end(`hello ${peer.spiffeId}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        cert: web.certChainPem,
        key: web.privateKeyPem,
        ca: web.rootCertsPem,
        checkServerIdentity: () => undefined, // SPIFFE: the identity is checked below, not a hostname
      });
      let data = '';
      socket.on('secureConnect', () => {
        const peer = verifyX509Svid(
          socket.getPeerCertificate(true),
          TrustBundle.fromPem('cluster.local', web.rootCertsPem),
        );
        if (peer.spiffeId.toString() !== 'spiffe://cluster.local/ns/data/sa/db')
          reject(new Error('wrong server identity'));
      });
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toBe(`hello ${webId}`);
  });
});
