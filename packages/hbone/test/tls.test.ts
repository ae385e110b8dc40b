// Mutual TLS rules of both ends (facts §1.3, users-reliability B8 rows 1-8 and 13).
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type ConnectionOptions,
  type TLSSocket,
} from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCa, createCertificate, createLeaf } from '@ambient-ts/pki/testing';
import { dialHbone, HboneError, type HboneServer, type TlsCredentials } from '../src/index.ts';
import { eventually, newPool, onCleanup, readAll, startServer } from './fixtures.ts';
import { CLIENT_ID, connectOptions, makePki, pki, SERVER_ID, serverCreds } from './pki.ts';

/** A server that records why it turned connections away and whether any CONNECT reached it. */
async function watchedServer(options: Partial<Parameters<typeof startServer>[0]> = {}) {
  const rejected: HboneError[] = [];
  let connects = 0;
  const { server, port } = await startServer({
    credentials: () => serverCreds,
    onConnect: (request) => {
      connects++;
      request.accept().stream.end('hello');
    },
    ...options,
  });
  server.on('connectionError', (error) => rejected.push(error));
  return { server, port, rejected, connects: () => connects };
}

/** A raw TLS client; resolves with how the connection ended. */
async function rawTls(port: number, options: ConnectionOptions): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, checkServerIdentity: () => undefined, ...options });
  socket.on('data', () => {});
  return new Promise((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    socket.once('close', () => resolve('closed'));
  });
}

function rawCreds(creds: TlsCredentials): ConnectionOptions {
  return { cert: creds.certChainPem, key: creds.privateKeyPem, ca: creds.rootCertsPem, ALPNProtocols: ['h2'] };
}

async function expectRefused(watched: Awaited<ReturnType<typeof watchedServer>>, code: string): Promise<void> {
  await eventually(() => watched.rejected.length > 0, 'connectionError');
  expect(watched.rejected[0]!.code).toBe(code);
  expect(watched.connects()).toBe(0);
}

describe('server side mTLS', () => {
  it('requires a client certificate', async () => {
    const watched = await watchedServer();
    const outcome = await rawTls(watched.port, { ca: serverCreds.rootCertsPem, ALPNProtocols: ['h2'] });
    expect(outcome).not.toBe('established');
    await expectRefused(watched, 'TLS_HANDSHAKE_FAILED');
  });

  it('refuses a client certificate from an unknown root', async () => {
    const watched = await watchedServer();
    const stranger = makePki('another root').creds(CLIENT_ID);
    await rawTls(watched.port, { ...rawCreds(stranger), ca: serverCreds.rootCertsPem });
    // OpenSSL's chain check runs first (node:tls rejectUnauthorized); the SPIFFE check is the second line.
    await expectRefused(watched, 'PEER_CERTIFICATE_INVALID');
    expect(watched.rejected[0]!.message).toMatch(/UNABLE_TO_(GET|VERIFY)/);
  });

  it('refuses a client from another trust domain at the handshake (same root)', async () => {
    const watched = await watchedServer();
    const foreign = pki.creds('spiffe://clusterset.local/ns/client/sa/app');
    const pool = newPool();
    const error = await pool
      .connect(
        connectOptions(pki, watched.port, {
          credentials: foreign,
          sourceIdentity: foreign && 'spiffe://clusterset.local/ns/client/sa/app',
        }),
      )
      .catch((e: unknown) => e);
    expect(HboneError.isHboneError(error)).toBe(true);
    await expectRefused(watched, 'TRUST_DOMAIN_MISMATCH');
  });

  it('refuses an expired client certificate and a client certificate that is a CA', async () => {
    const watched = await watchedServer();
    const expired = pki.creds(CLIENT_ID, {
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
    });
    await rawTls(watched.port, rawCreds(expired));
    await expectRefused(watched, 'PEER_CERTIFICATE_INVALID');
    expect(watched.rejected[0]!.message).toMatch(/CERT_HAS_EXPIRED/);
    const caLeaf = createCertificate({
      issuer: pki.root,
      isCa: true,
      keyUsage: ['keyCertSign', 'digitalSignature'],
      uris: [CLIENT_ID],
    });
    await rawTls(watched.port, {
      cert: caLeaf.certPem,
      key: caLeaf.keyPem,
      ca: serverCreds.rootCertsPem,
      ALPNProtocols: ['h2'],
    });
    await eventually(() => watched.rejected.length > 1, 'second connectionError');
    expect(watched.rejected[1]!.code).toBe('PEER_CERTIFICATE_INVALID');
    expect(watched.rejected[1]!.message).toContain('SVID_LEAF_IS_CA');
  });

  it('requires ALPN h2', async () => {
    const watched = await watchedServer();
    const creds = pki.creds(CLIENT_ID);
    await rawTls(watched.port, { ...rawCreds(creds), ALPNProtocols: ['http/1.1'] });
    await rawTls(watched.port, { ...rawCreds(creds), ALPNProtocols: [] });
    await eventually(() => watched.rejected.length >= 2, 'two refusals');
    expect(watched.rejected.map((error) => error.code)).toEqual(
      expect.arrayContaining([expect.stringMatching(/ALPN_NOT_H2|TLS_HANDSHAKE_FAILED/)]),
    );
    expect(watched.connects()).toBe(0);
  });

  it('answers plain TCP with a failed handshake and no HTTP response', async () => {
    const watched = await watchedServer();
    const socket = netConnect({ host: '127.0.0.1', port: watched.port });
    socket.end('CONNECT 1.2.3.4:80 HTTP/1.1\r\n\r\n');
    const reply = await readAll(socket).catch(() => Buffer.alloc(0));
    expect(reply.toString()).not.toContain('HTTP/');
    await expectRefused(watched, 'TLS_HANDSHAKE_FAILED');
  });

  it('is TLS 1.3 only unless tls12 is enabled', async () => {
    const strict = await watchedServer();
    const creds = pki.creds(CLIENT_ID);
    await rawTls(strict.port, { ...rawCreds(creds), maxVersion: 'TLSv1.2' as const });
    await expectRefused(strict, 'TLS_HANDSHAKE_FAILED');
    const lenient = await watchedServer({ tls12: true });
    const connection = await dialHbone({
      address: { host: '127.0.0.1', port: lenient.port },
      credentials: creds,
      expect: { kind: 'identities', identities: [SERVER_ID] },
      tls12: true,
    });
    onCleanup(() => connection.destroy());
    const socket = connection.session.socket as unknown as TLSSocket;
    expect(['TLSv1.3', 'TLSv1.2']).toContain(socket.getProtocol());
    const tunnel = await connection.openTunnel({ authority: '1.2.3.4:80' });
    expect((await readAll(tunnel.stream)).toString()).toBe('hello');
  });

  it('reports a failing credential lookup and closes the connection', async () => {
    const watched = await watchedServer({
      credentials: () => Promise.reject(new Error('no workload at this address')),
    });
    await rawTls(watched.port, rawCreds(pki.creds(CLIENT_ID)));
    await expectRefused(watched, 'CREDENTIALS_UNAVAILABLE');
    expect(watched.rejected[0]!.message).toContain('no workload at this address');
  });

  it('chooses the certificate by the local address the connection arrived on', async () => {
    const other = 'spiffe://cluster.local/ns/other/sa/db';
    const byAddress: Record<string, TlsCredentials> = { '127.0.0.1': serverCreds, '127.0.0.2': pki.creds(other) };
    const { createHboneServer } = await import('../src/index.ts');
    const server: HboneServer = createHboneServer({
      credentials: (local) => byAddress[local.address]!,
      onConnect: (request) => void request.accept().stream.end(request.local.address),
    });
    onCleanup(() => server.close());
    const { port } = await server.listen({ host: '0.0.0.0', port: 0 });
    const pool = newPool();
    for (const [host, id] of [
      ['127.0.0.1', SERVER_ID],
      ['127.0.0.2', other],
    ] as const) {
      const tunnel = await pool.connect(
        connectOptions(pki, port, { address: { host, port }, expectedIdentities: [id] }),
      );
      expect(tunnel.peerIdentity).toBe(id);
      expect((await readAll(tunnel.stream)).toString()).toBe(host);
    }
  });
});

describe('certificate chains', () => {
  it('accepts leaves issued by an intermediate on both ends (node:tls shows the server only the leaf)', async () => {
    const root = pki.root;
    const intermediate = createCa({ commonName: 'hbone test intermediate', issuer: root });
    const viaIntermediate = (id: string): TlsCredentials => {
      const leaf = createLeaf({ issuer: intermediate, uris: [id] });
      return {
        certChainPem: leaf.certPem + intermediate.certPem,
        privateKeyPem: leaf.keyPem,
        rootCertsPem: root.certPem,
      };
    };
    const seen: string[] = [];
    const { port } = await startServer({
      credentials: () => viaIntermediate(SERVER_ID),
      onConnect: (request) => {
        seen.push(request.peerIdentity);
        request.accept().stream.end('ok');
      },
    });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port, { credentials: viaIntermediate(CLIENT_ID) }));
    expect((await readAll(tunnel.stream)).toString()).toBe('ok');
    expect(seen).toEqual([CLIENT_ID]);
  });
});

describe('client side mTLS', () => {
  it('fails before any byte when the server identity is not expected', async () => {
    const watched = await watchedServer();
    const pool = newPool();
    const error = await pool
      .connect(connectOptions(pki, watched.port, { expectedIdentities: ['spiffe://cluster.local/ns/x/sa/y'] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PEER_IDENTITY_MISMATCH' });
    expect((error as Error).message).toContain(SERVER_ID);
    expect(watched.connects()).toBe(0);
  });

  it('fails when the server chain does not lead to our roots', async () => {
    const watched = await watchedServer({ credentials: () => makePki('rogue').creds(SERVER_ID) });
    const pool = newPool();
    await expect(pool.connect(connectOptions(pki, watched.port))).rejects.toMatchObject({
      code: 'TLS_HANDSHAKE_FAILED',
    });
    expect(watched.connects()).toBe(0);
  });

  it('sends no SNI and offers only h2', async () => {
    const seen: { servername: unknown; alpn: unknown }[] = [];
    const server = createTlsServer({
      cert: serverCreds.certChainPem,
      key: serverCreds.privateKeyPem,
      ALPNCallback: ({ servername, protocols }) => {
        seen.push({ servername, alpn: protocols });
        return 'h2';
      },
    });
    server.on('secureConnection', (socket) => socket.destroy());
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => void server.close());
    const port = (server.address() as { port: number }).port;
    await dialHbone({
      address: { host: 'localhost', port },
      credentials: pki.creds(CLIENT_ID),
      expect: { kind: 'identities', identities: [SERVER_ID] },
    }).catch(() => undefined);
    expect(seen).toEqual([{ servername: false, alpn: ['h2'] }]);
  });
});
