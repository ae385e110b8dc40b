// A standalone CA server: the CreateCertificate service on its own grpc-js server, over TLS with a
// serving certificate the CA issues itself (or one you pass), or plaintext.
import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { addCaService, type CaServiceOptions } from './ca-service.ts';
import { CaError } from './errors.ts';

export interface CaServerOptions extends CaServiceOptions {
  /**
   * `undefined` (default): serve TLS with a certificate issued by `authority` for localhost,
   * 127.0.0.1, ::1 and `serverNames`. `false`: plaintext (like istiod's 15010). Or your own PEMs.
   */
  tls?: false | { certChainPem: string; privateKeyPem: string };
  /** Extra DNS names / IPs for the self-issued serving certificate (e.g. `istiod.istio-system.svc`). */
  serverNames?: string[];
  /** Largest request accepted. Default 64 KiB (a CSR is about 1 KiB). */
  maxRequestBytes?: number;
  /** Extra grpc-js server options. */
  grpcOptions?: ChannelOptions;
}

type ServerState =
  { state: 'idle' } | { state: 'listening'; server: Server; port: number; host: string } | { state: 'closed' };

const ipLike = /^[0-9.]+$|:/;

export class CaServer {
  readonly #options: CaServerOptions;
  #state: ServerState = { state: 'idle' };

  constructor(options: CaServerOptions) {
    this.#options = options;
  }

  /** Bind and serve; port 0 picks a free port. Resolves with the bound port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.#state.state !== 'idle') {
      throw new CaError('INVALID_OPTIONS', `CaServer.listen called while ${this.#state.state}`);
    }
    const options = this.#options;
    const server = new Server({
      'grpc.max_receive_message_length': options.maxRequestBytes ?? 64 * 1024,
      ...options.grpcOptions,
    });
    addCaService(server, options);
    const credentials = await this.#credentials(host);
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, credentials, (error, boundPort) => (error ? reject(error) : resolve(boundPort)));
    }).catch((error: unknown) => {
      server.forceShutdown();
      throw new CaError('INVALID_OPTIONS', `the CA server could not bind ${address}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    this.#state = { state: 'listening', server, port: bound, host };
    return bound;
  }

  async #credentials(host: string): Promise<ServerCredentials> {
    const tls = this.#options.tls;
    if (tls === false) return ServerCredentials.createInsecure();
    let identity = tls;
    if (!identity) {
      const names = ['localhost', '127.0.0.1', '::1', ...(this.#options.serverNames ?? [])];
      if (!['0.0.0.0', '::'].includes(host)) names.push(host);
      const unique = [...new Set(names)];
      identity = await this.#options.authority.issueServerCertificate({
        dnsNames: unique.filter((name) => !ipLike.test(name)),
        ipAddresses: unique.filter((name) => ipLike.test(name)),
      });
    }
    return ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(identity.certChainPem), private_key: Buffer.from(identity.privateKeyPem) }],
      false,
    );
  }

  get port(): number {
    if (this.#state.state !== 'listening') throw new CaError('INVALID_OPTIONS', 'the CA server is not listening');
    return this.#state.port;
  }

  /** e.g. `https://127.0.0.1:15012`, ready for IstioCaClient. */
  get address(): string {
    if (this.#state.state !== 'listening') throw new CaError('INVALID_OPTIONS', 'the CA server is not listening');
    const host = this.#state.host.includes(':') ? `[${this.#state.host}]` : this.#state.host;
    return `${this.#options.tls === false ? 'http' : 'https'}://${host}:${this.#state.port}`;
  }

  /** Trust anchors clients need to verify this server (the CA's roots when self-issued). */
  get rootCertsPem(): string {
    return this.#options.authority.rootCertsPem;
  }

  /** Stop accepting calls; in-flight calls get `graceMs` to finish. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#state.state !== 'listening') {
      this.#state = { state: 'closed' };
      return;
    }
    const { server } = this.#state;
    this.#state = { state: 'closed' };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
