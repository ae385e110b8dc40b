// Client of Istio's CA API (istiod or our CaServer): a fresh key and CSR per request, sent as
// istio.v1.auth.IstioCertificateService/CreateCertificate with `authorization: Bearer <token>` and
// `clusterid` headers; in shared (node) mode the identity goes in the body's ImpersonatedIdentity.
import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  status,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import type { CaClient, FetchOptions, WorkloadCertificate } from './ca-client.ts';
import { readRootCerts, readToken, type RootCertSource, type RootCerts, type TokenSource } from './ca-sources.ts';
import { createCsr, generatePrivateKey } from '@ambient-ts/pki';
import { checkIdentity } from './csr.ts';
import { CertsError, type CertsErrorCode } from './errors.ts';
import { checkKeyAlgorithm, type KeyAlgorithm } from './keys.ts';
import { caWire } from '@ambient-ts/ca';
import { workloadCertificateFromChain } from './response.ts';

export interface IstioCaClientOptions {
  /** `https://host:port` (TLS), `http://host:port` (plaintext), or `host:port` (TLS). */
  address: string;
  /** Channel trust for TLS: a file path (re-read per request; rotation rebuilds the channel), `SYSTEM`,
   * or inline PEM. Default `SYSTEM`. */
  rootCert?: RootCertSource;
  /** Bearer token; without one no authorization header is sent. */
  token?: TokenSource;
  /** `clusterid` header. Default `Kubernetes`. */
  clusterId?: string;
  /** Requested lifetime (`validity_duration`). Default 24 h. */
  ttlSeconds?: number;
  /** Shared/node mode: ask for the identity via ImpersonatedIdentity. Dedicated mode: false (default). */
  impersonate?: boolean;
  /** Extra request headers (Istio's CA_HEADER_<name>). */
  headers?: Record<string, string>;
  /** Verify the server certificate against this name instead of the address host (ALT_CA_HOSTNAME). */
  altHostname?: string;
  keyAlgorithm?: KeyAlgorithm;
  /** Per-request deadline. Default 10 s. */
  timeoutMs?: number;
  /** Clock for checking the answer's validity (share the manager's when testing with a fake clock). */
  now?: () => number;
  channelOptions?: ChannelOptions;
}

interface Channel {
  client: Client;
  roots: RootCerts | undefined;
}

const statusCodes: Partial<Record<status, CertsErrorCode>> = {
  [status.UNAVAILABLE]: 'CA_UNAVAILABLE',
  [status.UNAUTHENTICATED]: 'CA_UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'CA_PERMISSION_DENIED',
  [status.INVALID_ARGUMENT]: 'CA_INVALID_ARGUMENT',
  [status.DEADLINE_EXCEEDED]: 'CA_DEADLINE_EXCEEDED',
};

function parseAddress(address: string): { target: string; tls: boolean; display: string } {
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `https://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw new CertsError('INVALID_OPTIONS', `CA address ${JSON.stringify(address)} is not a URL or host:port`, {
      cause: error,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CertsError('INVALID_OPTIONS', `CA address ${address}: use https:// (TLS) or http:// (plaintext)`);
  }
  const tls = url.protocol === 'https:';
  const port = url.port || (tls ? '443' : '80');
  return { target: `${url.hostname}:${port}`, tls, display: `${url.protocol}//${url.hostname}:${port}` };
}

export class IstioCaClient implements CaClient {
  readonly #options: IstioCaClientOptions;
  readonly #address: { target: string; tls: boolean; display: string };
  readonly #keyAlgorithm: KeyAlgorithm;
  #channel: Channel | undefined;

  constructor(options: IstioCaClientOptions) {
    this.#address = parseAddress(options.address);
    this.#keyAlgorithm = checkKeyAlgorithm(options.keyAlgorithm, 'IstioCaClient');
    if (options.ttlSeconds !== undefined && !(options.ttlSeconds > 0)) {
      throw new CertsError('INVALID_OPTIONS', `IstioCaClient: ttlSeconds must be positive, got ${options.ttlSeconds}`);
    }
    this.#options = options;
  }

  async fetchCertificate(identity: string, options: FetchOptions = {}): Promise<WorkloadCertificate> {
    checkIdentity(identity);
    const aborted = (): CertsError => new CertsError('ABORTED', `the certificate request for ${identity} was aborted`);
    if (options.signal?.aborted) throw aborted();
    const key = await generatePrivateKey(this.#keyAlgorithm);
    const csr = createCsr(identity, key);
    const metadata = await this.#metadata();
    const client = await this.#client();
    if (options.signal?.aborted) throw aborted();
    const request: caWire.CaRequest = {
      csr,
      validityDuration: this.#options.ttlSeconds ?? 86_400,
      metadata: this.#options.impersonate ? { [caWire.impersonatedIdentityKey]: identity } : {},
    };
    const response = await new Promise<caWire.CaResponse>((resolve, reject) => {
      const deadline = Date.now() + (this.#options.timeoutMs ?? 10_000);
      const onAbort = (): void => call.cancel();
      const call = client.makeUnaryRequest(
        caWire.createCertificatePath,
        caWire.encodeRequest,
        caWire.decodeResponse,
        request,
        metadata,
        { deadline },
        (error, value) => {
          options.signal?.removeEventListener('abort', onAbort);
          if (error) reject(options.signal?.aborted ? aborted() : this.#callError(error, identity, client));
          else if (!value) reject(new CertsError('CA_RESPONSE_EMPTY', `the CA sent no response for ${identity}`));
          else resolve(value);
        },
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    return workloadCertificateFromChain({
      identity,
      chain: response.certChain,
      privateKey: key,
      now: this.#options.now?.() ?? Date.now(),
    });
  }

  async #metadata(): Promise<Metadata> {
    const metadata = new Metadata();
    for (const [name, value] of Object.entries(this.#options.headers ?? {})) metadata.set(name.toLowerCase(), value);
    const token = await readToken(this.#options.token);
    if (token) metadata.set('authorization', `Bearer ${token}`);
    metadata.set('clusterid', this.#options.clusterId ?? 'Kubernetes');
    return metadata;
  }

  async #client(): Promise<Client> {
    const roots = this.#address.tls
      ? await readRootCerts(this.#options.rootCert ?? 'SYSTEM', this.#channel?.roots)
      : undefined;
    // Read the current channel after the await: a concurrent request may have built it meanwhile.
    const current = this.#channel;
    if (current && sameRoots(current.roots, roots)) return current.client;
    current?.client.close(); // root rotated: new handshakes must use the new trust
    const channelOptions: ChannelOptions = { ...this.#options.channelOptions };
    if (this.#options.altHostname) {
      channelOptions['grpc.ssl_target_name_override'] = this.#options.altHostname;
      channelOptions['grpc.default_authority'] = this.#options.altHostname;
    }
    const credentials = !roots
      ? grpcCredentials.createInsecure()
      : grpcCredentials.createSsl(roots.kind === 'pem' ? Buffer.from(roots.pem) : null);
    const client = new Client(this.#address.target, credentials, channelOptions);
    this.#channel = { client, roots };
    return client;
  }

  #callError(error: ServiceError, identity: string, client: Client): CertsError {
    const code = statusCodes[error.code] ?? 'CA_CALL_FAILED';
    if ((code === 'CA_UNAVAILABLE' || code === 'CA_DEADLINE_EXCEEDED') && this.#channel?.client === client) {
      // Start the next attempt on a fresh connection rather than waiting out grpc-js's own reconnect backoff.
      client.close();
      this.#channel = undefined;
    }
    const reason = error.metadata?.get(caWire.errorCodeTrailer)[0];
    const what =
      code === 'CA_UNAVAILABLE'
        ? 'is unavailable'
        : code === 'CA_DEADLINE_EXCEEDED'
          ? 'did not answer in time'
          : 'refused';
    return new CertsError(
      code,
      `the CA at ${this.#address.display} ${what} for ${identity} (${status[error.code] ?? error.code}): ${error.details}`,
      { cause: error, ...(typeof reason === 'string' ? { reason } : {}) },
    );
  }

  close(): void {
    this.#channel?.client.close();
    this.#channel = undefined;
  }
}

function sameRoots(a: RootCerts | undefined, b: RootCerts | undefined): boolean {
  if (a?.kind === 'pem' && b?.kind === 'pem') return a.pem === b.pem;
  return a?.kind === b?.kind;
}
