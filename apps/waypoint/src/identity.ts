// The waypoint's own certificate: one identity (spiffe://<td>/ns/<ns>/sa/<gateway SA>), obtained from
// the Istio CA with the waypoint's own token (no impersonation) or an in-process CA (FAKE_CA), rotated at
// half-life by the certificate manager. The same certificate serves inbound HBONE and upstream HBONE.
import { CertificateManager, createCaClient, CredentialSource, type CaClient } from '@ambient-ts/certs';
import type { TlsCredentials } from '@ambient-ts/hbone';
import type { Logging, Readiness } from '@ambient-ts/telemetry';
import type { Config } from './config.ts';
import { tokenSource } from '@ambient-ts/runtime';

const certificateTask = 'certificate';

/** The waypoint asks for its own identity only, with its own token (no impersonation). */
const configuredCaClient = (config: Config): Promise<CaClient> =>
  createCaClient(config, {
    trustDomain: config.self.trustDomain,
    impersonate: false,
    token: tokenSource(config.authToken),
  });

export class WaypointIdentity {
  readonly identity: string;
  readonly manager: CertificateManager;
  readonly #caClient: CaClient;
  readonly #ownsCaClient: boolean;
  readonly #credentials: CredentialSource;

  private constructor(identity: string, caClient: CaClient, ownsCaClient: boolean) {
    this.identity = identity;
    this.#caClient = caClient;
    this.#ownsCaClient = ownsCaClient;
    this.manager = new CertificateManager({ caClient });
    this.#credentials = new CredentialSource(this.manager);
  }

  static async create(
    config: Config,
    identity: string,
    deps: { logging: Logging; readiness: Readiness },
    caClient?: CaClient,
  ): Promise<WaypointIdentity> {
    const created = new WaypointIdentity(
      identity,
      caClient ?? (await configuredCaClient(config)),
      caClient === undefined,
    );
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

  /**
   * Current credentials; waits for the CA when none is cached yet. The same object per certificate lets
   * the HBONE layer reuse its TLS contexts by identity.
   */
  credentials(): Promise<TlsCredentials> {
    return this.#credentials.credentials(this.identity, 'realtime');
  }

  close(): void {
    this.manager.close();
    if (this.#ownsCaClient) this.#caClient.close?.();
  }
}
