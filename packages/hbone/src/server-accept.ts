// Accepting one inbound connection: TCP → credentials for the local address → mutual TLS with ALPN h2
// → SPIFFE check of the client (same trust domain as our own certificate). Clients send no SNI, so the
// certificate is chosen by the address the connection arrived on. Only a connection that passed every
// check is handed on to HTTP/2.
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { normalizeAddress, type SocketAddress } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';
import { verifyClientPeer } from './peer-verify.ts';
import { CredentialCache, CredentialInfo, tlsContextOptions, type TlsCredentials } from './tls-config.ts';

export type CredentialSource = (local: SocketAddress) => Promise<TlsCredentials> | TlsCredentials;

/** A connection that completed TLS and passed the identity checks. */
export interface VerifiedConnection {
  socket: TLSSocket;
  peerIdentity: string;
  local: SocketAddress;
  remote: SocketAddress;
}

export interface AcceptorOptions {
  credentials: CredentialSource;
  tls12: boolean;
  handshakeTimeoutMs: number;
  onVerified: (connection: VerifiedConnection) => void;
  onRejected: (error: HboneError, remote: SocketAddress) => void;
}

class ServerCredential extends CredentialInfo {
  tlsServer: TlsServer | undefined;
}

function addressOf(address: string | undefined, port: number | undefined): SocketAddress {
  return { address: normalizeAddress(address ?? ''), port: port ?? 0 };
}

function tupleKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

export class Acceptor {
  readonly #options: AcceptorOptions;
  readonly #cache: CredentialCache<ServerCredential>;
  /** Sockets between accept and verification (by 4-tuple), so drain/close can end slow handshakes. */
  readonly #pending = new Map<string, Socket>();

  constructor(options: AcceptorOptions) {
    this.#options = options;
    this.#cache = new CredentialCache((credentials) => new ServerCredential(credentials, options.tls12));
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  destroyPending(): void {
    for (const socket of this.#pending.values()) socket.destroy();
    this.#pending.clear();
  }

  /** Take a freshly accepted TCP socket through credentials, TLS and verification. */
  accept(raw: Socket): void {
    const local = addressOf(raw.localAddress, raw.localPort);
    const remote = addressOf(raw.remoteAddress, raw.remotePort);
    const key = tupleKey(raw);
    this.#pending.set(key, raw);
    raw.once('close', () => this.#pending.delete(key));
    raw.on('error', () => raw.destroy());
    // Bounds the credential lookup; node:tls' handshakeTimeout bounds the handshake itself.
    const timer = setTimeout(() => {
      if (raw.destroyed) return;
      raw.destroy();
      this.#options.onRejected(
        new HboneError('HANDSHAKE_TIMEOUT', `no credentials for ${local.address} within the handshake timeout`),
        remote,
      );
    }, this.#options.handshakeTimeoutMs);
    timer.unref();
    raw.once('close', () => clearTimeout(timer));
    let lookup: Promise<TlsCredentials> | TlsCredentials;
    try {
      lookup = this.#options.credentials(local);
    } catch (error) {
      this.#noCredentials(raw, local, remote, error);
      return;
    }
    if (lookup instanceof Promise) {
      lookup.then(
        (credentials) => this.#startTls(raw, credentials, timer, remote),
        (error: unknown) => this.#noCredentials(raw, local, remote, error),
      );
    } else {
      this.#startTls(raw, lookup, timer, remote);
    }
  }

  #noCredentials(raw: Socket, local: SocketAddress, remote: SocketAddress, error: unknown): void {
    raw.destroy();
    this.#options.onRejected(
      new HboneError(
        'CREDENTIALS_UNAVAILABLE',
        `no certificate for local address ${local.address}:${local.port}: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      ),
      remote,
    );
  }

  #startTls(raw: Socket, credentials: TlsCredentials, timer: NodeJS.Timeout, remote: SocketAddress): void {
    clearTimeout(timer);
    if (raw.destroyed) return;
    let entry: ServerCredential;
    try {
      entry = this.#cache.get(credentials);
      entry.tlsServer ??= this.#tlsServer(entry);
    } catch (error) {
      this.#noCredentials(raw, addressOf(raw.localAddress, raw.localPort), remote, error);
      return;
    }
    entry.tlsServer.emit('connection', raw);
  }

  #tlsServer(entry: ServerCredential): TlsServer {
    const server = createTlsServer({
      ...tlsContextOptions(entry.credentials, entry.tls12),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
      handshakeTimeout: this.#options.handshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.#verify(entry, socket));
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      // node:tls reports but does not close (e.g. on handshake timeout): the connection is done.
      socket.destroy();
      // The TLS socket may already be closed; its raw socket (`_parent`) still knows the peer.
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      const remote = addressOf(
        socket.remoteAddress ?? raw?.remoteAddress ?? '(closed)',
        socket.remotePort ?? raw?.remotePort,
      );
      // node:tls sets authorizationError and destroys the socket when the client chain fails to verify.
      const reason = socket.authorizationError;
      const timedOut = /timed? ?out/i.test(error.message);
      const code = reason ? 'PEER_CERTIFICATE_INVALID' : timedOut ? 'HANDSHAKE_TIMEOUT' : 'TLS_HANDSHAKE_FAILED';
      const why = reason ? `client certificate rejected: ${String(reason)}` : error.message;
      this.#options.onRejected(
        new HboneError(code, `TLS handshake with ${remote.address}:${remote.port} failed: ${why}`, { cause: error }),
        remote,
      );
    });
    return server;
  }

  #verify(entry: ServerCredential, socket: TLSSocket): void {
    const remote = addressOf(socket.remoteAddress, socket.remotePort);
    const local = addressOf(socket.localAddress, socket.localPort);
    this.#pending.delete(tupleKey(socket));
    socket.on('error', () => socket.destroy());
    try {
      if (socket.alpnProtocol !== 'h2') {
        throw new HboneError(
          'ALPN_NOT_H2',
          `the client negotiated ALPN ${JSON.stringify(socket.alpnProtocol)}; HBONE requires "h2"`,
        );
      }
      if (!socket.authorized) {
        throw new HboneError(
          'PEER_CERTIFICATE_INVALID',
          `client certificate rejected: ${String(socket.authorizationError ?? 'no certificate')}`,
        );
      }
      const peerIdentity = verifyClientPeer(socket.getPeerCertificate(true), entry, socket.authorized);
      this.#options.onVerified({ socket, peerIdentity, local, remote });
    } catch (error) {
      socket.destroy();
      this.#options.onRejected(error as HboneError, remote);
    }
  }
}
