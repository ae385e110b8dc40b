// Baseline for the tunnel rate: node:http2 CONNECT streams over the same mutual TLS 1.3, without the
// HBONE layer (no pool, no SPIFFE checks, no request object) — what Node itself costs per stream.
import { connect as h2Connect, createSecureServer, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TlsCredentials } from '@ambient-ts/hbone';
import { TLS13_CIPHER_SUITES } from '@ambient-ts/hbone';

const settings = { initialWindowSize: 4 << 20, maxFrameSize: 1 << 20, maxConcurrentStreams: 200 };

export function bareServer(credentials: TlsCredentials): Promise<AddressInfo> {
  const server = createSecureServer({
    cert: credentials.certChainPem,
    key: credentials.privateKeyPem,
    ca: credentials.rootCertsPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    ciphers: TLS13_CIPHER_SUITES,
    settings,
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 }, { endStream: false });
    stream.on('data', (chunk: Buffer) => stream.write(chunk));
    stream.on('end', () => stream.end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
}

/** One bare TLS 1.3 HTTP/2 session with the HBONE settings, once the server's SETTINGS arrived. */
async function bareSession(credentials: TlsCredentials, port: number): Promise<ClientHttp2Session> {
  const session: ClientHttp2Session = h2Connect(`https://127.0.0.1:${port}`, {
    cert: credentials.certChainPem,
    key: credentials.privateKeyPem,
    ca: credentials.rootCertsPem,
    minVersion: 'TLSv1.3',
    checkServerIdentity: () => undefined,
    settings,
  });
  session.on('error', () => {});
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return session;
}

export async function bareClient(credentials: TlsCredentials, port: number): Promise<() => Promise<void>> {
  const session = await bareSession(credentials, port);
  return () =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':method': 'CONNECT', ':authority': '127.0.0.1:9' }, { endStream: false });
      stream.once('response', () => stream.write('x'));
      stream.once('data', () => stream.end());
      stream.once('close', resolve);
      stream.once('error', reject);
      stream.resume();
    });
}

/** Idle CONNECT streams, 100 per TLS session (what the HBONE pool does), held open. */
export function bareIdle(credentials: TlsCredentials, port: number): (count: number) => Promise<number> {
  const sessions: ClientHttp2Session[] = [];
  const held: unknown[] = [];
  let onSession = 100;
  return async (count) => {
    for (let i = 0; i < count; i++) {
      if (onSession === 100) {
        sessions.push(await bareSession(credentials, port));
        onSession = 0;
      }
      const stream = sessions
        .at(-1)!
        .request({ ':method': 'CONNECT', ':authority': '127.0.0.1:9' }, { endStream: false });
      stream.on('error', () => {});
      onSession++;
      held.push(stream);
      if (i % 100 === 99) await new Promise((resolve) => stream.once('response', resolve));
    }
    return held.length;
  };
}
