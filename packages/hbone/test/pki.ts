// Test identities: one CA per test file, the server's and client's SPIFFE IDs and credentials under it, and
// the pool options and raw mTLS sockets that present them.
import { once } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createCa, createLeaf, type CertOptions, type Fixture } from '@ambient-ts/pki/testing';
import type { PoolConnectOptions, TlsCredentials } from '../src/index.ts';

export const SERVER_ID = 'spiffe://cluster.local/ns/server/sa/echo';
export const CLIENT_ID = 'spiffe://cluster.local/ns/client/sa/app';

export interface Pki {
  root: Fixture;
  /** Credentials for a SPIFFE ID (leaf signed by this root). */
  creds(id: string, options?: Partial<CertOptions>): TlsCredentials;
}

export function makePki(commonName = 'hbone test root'): Pki {
  const root = createCa({ commonName });
  return {
    root,
    creds: (id, options = {}) => {
      const leaf = createLeaf({ issuer: root, uris: [id], ...options });
      return { certChainPem: leaf.certPem, privateKeyPem: leaf.keyPem, rootCertsPem: root.certPem };
    },
  };
}

/** The test file's CA, and the server's credentials under it (most tests need nothing else). */
export const pki = makePki();
export const serverCreds = pki.creds(SERVER_ID);

/** An mTLS client socket offering h2, connected; no HTTP/2 spoken yet. */
export async function mtlsSocket(port: number, creds: TlsCredentials): Promise<TLSSocket> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    cert: creds.certChainPem,
    key: creds.privateKeyPem,
    ca: creds.rootCertsPem,
    ALPNProtocols: ['h2'],
    checkServerIdentity: () => undefined,
  });
  await once(socket, 'secureConnect');
  return socket;
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
