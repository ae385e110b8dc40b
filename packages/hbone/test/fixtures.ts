// Shared test fixtures: certificates from @ambient-ts/pki/testing, servers on port 0 that are closed after
// each test, and small socket helpers.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach } from 'vitest';
import { createCa, createLeaf, type CertOptions, type Fixture } from '@ambient-ts/pki/testing';
import {
  createHboneServer,
  HbonePool,
  type ConnectRequest,
  type HboneServer,
  type HboneServerOptions,
  type PoolConnectOptions,
  type TlsCredentials,
} from '../src/index.ts';

export const SERVER_ID = 'spiffe://cluster.local/ns/server/sa/echo';
export const CLIENT_ID = 'spiffe://cluster.local/ns/client/sa/app';

// The fixture builder (then tools/certgen) once emitted a serial whose DER was not minimal (leading 0x00) and
// failed to parse it; a retry avoids a flaky fixture.
export function retry<T>(make: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return make();
    } catch (error) {
      if (attempt >= 8) throw error;
    }
  }
}

export interface Pki {
  root: Fixture;
  /** Credentials for a SPIFFE ID (leaf signed by this root). */
  creds(id: string, options?: Partial<CertOptions>): TlsCredentials;
}

export function makePki(commonName = 'hbone test root'): Pki {
  const root = retry(() => createCa({ commonName }));
  return {
    root,
    creds: (id, options = {}) => {
      const leaf = retry(() => createLeaf({ issuer: root, uris: [id], ...options }));
      return { certChainPem: leaf.certPem, privateKeyPem: leaf.keyPem, rootCertsPem: root.certPem };
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Run after the current test (servers, pools, sockets). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An HBONE server on 127.0.0.1:0, closed after the test. */
export async function startServer(
  options: Partial<HboneServerOptions> & Pick<HboneServerOptions, 'credentials'>,
): Promise<{ server: HboneServer; port: number }> {
  const server = createHboneServer({ onConnect: echo, ...options });
  onCleanup(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

export function newPool(options?: ConstructorParameters<typeof HbonePool>[0]): HbonePool {
  const pool = new HbonePool(options);
  onCleanup(() => pool.close());
  return pool;
}

/** onConnect that accepts and echoes, honouring half-close. */
export function echo(request: ConnectRequest): void {
  const { stream } = request.accept();
  stream.pipe(stream);
}

/** A plain TCP server, closed after the test. */
export async function startTcp(handler: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    handler(socket);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Read a stream to its end. */
export async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Everything the test pool needs to reach `port` as CLIENT_ID expecting SERVER_ID. */
export function connectOptions(
  pki: Pki,
  port: number,
  overrides: Partial<PoolConnectOptions> = {},
): PoolConnectOptions {
  return {
    address: { host: '127.0.0.1', port },
    authority: '127.0.0.1:8080',
    credentials: clientCreds(pki),
    sourceIdentity: CLIENT_ID,
    expectedIdentities: [SERVER_ID],
    ...overrides,
  };
}

const clientCache = new WeakMap<Pki, TlsCredentials>();
function clientCreds(pki: Pki): TlsCredentials {
  let creds = clientCache.get(pki);
  if (!creds) {
    creds = pki.creds(CLIENT_ID);
    clientCache.set(pki, creds);
  }
  return creds;
}

/** Wait until `check` is true (event-driven code under load: poll instead of sleeping a fixed time). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
