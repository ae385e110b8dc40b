// The waypoint's own certificate: one identity (spiffe://<td>/ns/<ns>/sa/<gateway SA>), obtained from
// the Istio CA with the waypoint's own token (no impersonation) or an in-process CA (FAKE_CA), rotated at
// half-life by the certificate manager. The same certificate serves inbound HBONE and upstream HBONE.
import { CertificateManager, IstioCaClient, LocalCa, type CaClient, type WorkloadCertificate } from '@ambient-ts/certs';
import type { TlsCredentials } from '@ambient-ts/hbone';
import type { Logging, Readiness } from '@ambient-ts/telemetry';
import type { Config } from './config.ts';
import { tokenSource } from '@ambient-ts/runtime';

const certificateTask = 'certificate';

async function createCaClient(config: Config): Promise<CaClient> {
  const ttlSeconds = Math.round(config.secretTtlMs / 1000);
  if (config.fakeCa) return LocalCa.create({ trustDomain: config.self.trustDomain, ttlSeconds });
  const token = tokenSource(config.authToken);
  return new IstioCaClient({
    address: config.caAddress!,
    rootCert: config.caRootCa,
    token: () => token() ?? '',
    clusterId: config.clusterId,
    ttlSeconds,
    impersonate: false,
    headers: config.caHeaders,
    ...(config.altCaHostname ? { altHostname: config.altCaHostname } : {}),
  });
}

export class WaypointIdentity {
  readonly identity: string;
  readonly manager: CertificateManager;
  readonly #caClient: CaClient;
  readonly #ownsCaClient: boolean;
  #last: { certificate: WorkloadCertificate; credentials: TlsCredentials } | undefined;

  private constructor(identity: string, caClient: CaClient, ownsCaClient: boolean) {
    this.identity = identity;
    this.#caClient = caClient;
    this.#ownsCaClient = ownsCaClient;
    this.manager = new CertificateManager({ caClient });
  }

  static async create(
    config: Config,
    identity: string,
    deps: { logging: Logging; readiness: Readiness },
    caClient?: CaClient,
  ): Promise<WaypointIdentity> {
    const created = new WaypointIdentity(identity, caClient ?? (await createCaClient(config)), caClient === undefined);
    const log = deps.logging.scope('identity');
    deps.readiness.register(certificateTask);
    created.manager.on('fetchError', (id, error) =>
      log.warn({ identity: id, error: error.message }, 'certificate fetch failed; will retry'),
    );
    created.manager.on('change', (id, certificate) => {
      deps.readiness.complete(certificateTask);
      log.info({ identity: id, expires: certificate.notAfter.toISOString() }, 'certificate ready');
    });
    created.manager.prefetch(identity);
    return created;
  }

  /** Current credentials; waits for the CA when none is cached yet. */
  async credentials(): Promise<TlsCredentials> {
    const certificate = await this.manager.getCertificate(this.identity, 'realtime');
    // The same object per certificate lets the HBONE layer reuse its TLS contexts by identity.
    if (this.#last?.certificate !== certificate) {
      this.#last = {
        certificate,
        credentials: {
          certChainPem: certificate.certChainPem,
          privateKeyPem: certificate.privateKeyPem,
          rootCertsPem: certificate.rootCertsPem,
        },
      };
    }
    return this.#last.credentials;
  }

  close(): void {
    this.manager.close();
    if (this.#ownsCaClient) this.#caClient.close?.();
  }
}
