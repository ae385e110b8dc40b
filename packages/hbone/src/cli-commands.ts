// The two `hbone` commands. Logs go to stderr; `connect` owns stdin/stdout for the tunnel bytes.
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatSocketAddress, parseAuthority, type SocketAddress } from '@ambient-ts/addresses';
import type { HboneTunnel } from './client-connection.ts';
import { splice } from './copy.ts';
import { dialHbone } from './dial.ts';
import { HboneError } from './errors.ts';
import { HbonePool } from './pool.ts';
import { createHboneServer } from './server.ts';
import { CredentialInfo, type TlsCredentials } from './tls-config.ts';

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
  tls12: boolean;
}

export function loadCredentials(files: TlsFiles): {
  credentials: TlsCredentials;
  identity: string;
  trustDomain: string;
} {
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new HboneError('INVALID_OPTIONS', `cannot read ${what} file ${path}: ${(error as Error).message}`);
    }
  };
  const credentials = {
    certChainPem: read(files.cert, '--cert'),
    privateKeyPem: read(files.key, '--key'),
    rootCertsPem: read(files.ca, '--ca'),
  };
  const info = new CredentialInfo(credentials, files.tls12);
  return { credentials, identity: info.identity.toString(), trustDomain: info.trustDomain };
}

/** `host:port` or `[v6]:port` → a dial target. */
export function parseAddress(text: string, flag: string): SocketAddress {
  try {
    const parsed = parseAuthority(text);
    return { address: parsed.kind === 'ip' ? parsed.address : parsed.host, port: parsed.port };
  } catch {
    throw new HboneError('INVALID_OPTIONS', `${flag} must be host:port or [ipv6]:port, got "${text}"`);
  }
}

const log = (message: string): void => void process.stderr.write(`hbone: ${message}\n`);

export async function serve(options: TlsFiles & { listen: string; mode: 'echo' | 'forward' }): Promise<void> {
  const { credentials, identity } = loadCredentials(options);
  const listen = parseAddress(options.listen, '--listen');
  const server = createHboneServer({
    credentials: () => credentials,
    tls12: options.tls12,
    onConnect: (request) => {
      const who = `${request.peerIdentity} → ${request.rawAuthority}`;
      if (options.mode === 'echo') {
        const { stream } = request.accept();
        stream.pipe(stream);
        log(`${who}: 200 (echo)`);
        return;
      }
      const target = request.authority.kind === 'ip' ? request.authority.address : request.authority.host;
      const backend = netConnect({ host: target, port: request.authority.port, allowHalfOpen: true, noDelay: true });
      backend.setTimeout(10_000, () => backend.destroy(new Error('connect timed out after 10 s')));
      backend.once('connect', () => {
        backend.setTimeout(0);
        const tunnel = request.accept();
        log(`${who}: 200`);
        void splice(tunnel.stream, backend).done.then((result) =>
          log(`${who}: closed (${result.outcome}, ${result.aToB} bytes in, ${result.bToA} bytes out)`),
        );
      });
      backend.once('error', (error) => {
        if (request.state !== 'pending') return;
        request.refuse(503);
        log(`${who}: 503 (${error.message})`);
      });
    },
  });
  server.on('connectionError', (error, remote) =>
    log(`rejected ${formatSocketAddress(remote)}: ${error.code}: ${error.message}`),
  );
  const bound = await server.listen({ host: listen.address, port: listen.port });
  log(`listening on ${formatSocketAddress(bound)} as ${identity} (${options.mode})`);
  const stop = (): void => {
    log('draining (5 s)');
    void server.drain(5_000).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export interface ConnectCommand extends TlsFiles {
  to: string;
  authority: string;
  expectIdentities: string[];
  headers: Record<string, string>;
  sourceIp?: string;
  verbose: boolean;
}

async function openTunnel(options: ConnectCommand): Promise<HboneTunnel> {
  const { credentials, identity, trustDomain } = loadCredentials(options);
  const to = parseAddress(options.to, '--to');
  const address = { host: to.address, port: to.port };
  if (options.expectIdentities.length > 0) {
    const pool = new HbonePool({ tls12: options.tls12 });
    return pool.connect({
      address,
      authority: options.authority,
      headers: options.headers,
      credentials,
      sourceIdentity: identity,
      expectedIdentities: options.expectIdentities,
      ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
    });
  }
  // No --expect-identity: accept any server of our own trust domain, and say who answered.
  const connection = await dialHbone({
    address,
    credentials,
    expect: { kind: 'trust-domain', trustDomain },
    tls12: options.tls12,
    ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
  });
  try {
    const tunnel = await connection.openTunnel({ authority: options.authority, headers: options.headers });
    tunnel.stream.once('close', () => connection.close());
    return tunnel;
  } catch (error) {
    connection.destroy();
    throw error;
  }
}

/** Pipe stdin/stdout through one tunnel. Resolves with the exit status. */
export async function connect(options: ConnectCommand): Promise<number> {
  let tunnel: HboneTunnel;
  try {
    tunnel = await openTunnel(options);
  } catch (error) {
    const status = HboneError.isHboneError(error) && error.status ? ` (HTTP ${error.status})` : '';
    log(`tunnel to ${options.authority} via ${options.to} failed${status}: ${describe(error)}`);
    return 1;
  }
  if (options.verbose || options.expectIdentities.length === 0) {
    log(`connected to ${tunnel.peerIdentity} (HTTP ${tunnel.status})`);
  }
  return pipeStdio(tunnel.stream);
}

function describe(error: unknown): string {
  return HboneError.isHboneError(error) ? `${error.code}: ${error.message}` : String(error);
}

function pipeStdio(stream: Duplex): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    process.stdin.pipe(stream);
    stream.pipe(process.stdout);
    stream.on('error', (error: Error) => {
      if (failed) return;
      failed = true;
      const code = (stream as Duplex & { rstCode?: number }).rstCode;
      log(`tunnel reset by the peer (HTTP/2 error code ${code ?? '?'}): ${error.message}`);
      process.stdin.destroy();
      resolve(1);
    });
    stream.once('close', () => {
      process.stdin.destroy();
      if (!failed) resolve(0);
    });
  });
}
