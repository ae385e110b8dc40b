// Workload certificates for this proxy: one per local identity, from the Istio CA (impersonating the
// workload in node/shared mode) or an in-process CA (FAKE_CA). Prefetched when a local HBONE workload
// appears, forgotten when its last workload goes, fetched on demand when a connection needs one first.
// ztunnel's own token authenticates it to the CA; its own identity is never used for workload mTLS.
import {
  CertificateManager,
  createCaClient,
  CredentialSource,
  type CaClient,
  type WorkloadCredentials,
} from '@ambient-ts/certs';
import { workloadIdentity, type Workload } from '@ambient-ts/discovery';
import type { Logging } from '@ambient-ts/telemetry';
import type { Config } from './config.ts';
import type { ProxyState } from './proxy-state.ts';
import { tokenSource } from '@ambient-ts/runtime';

/** What the HBONE layer presents and trusts for one identity (the same object until rotation). */
export type Credentials = WorkloadCredentials;

const wantsCertificate = (workload: Workload): boolean => workload.protocol === 'HBONE' || workload.nativeTunnel;

export class WorkloadIdentities {
  readonly manager: CertificateManager;
  readonly #credentials: CredentialSource;
  readonly #state: ProxyState;
  readonly #prefetch: boolean;
  #unsubscribe: (() => void) | undefined;

  private constructor(manager: CertificateManager, state: ProxyState, prefetch: boolean) {
    this.manager = manager;
    this.#credentials = new CredentialSource(manager);
    this.#state = state;
    this.#prefetch = prefetch;
  }

  /** `caClient` overrides the configured CA (tests share one in-process CA between several ztunnels). */
  static async create(
    config: Config,
    state: ProxyState,
    logging: Logging,
    caClient?: CaClient,
  ): Promise<WorkloadIdentities> {
    const configured = async (): Promise<CaClient> =>
      createCaClient(config, {
        trustDomain: config.self.trustDomain,
        impersonate: config.proxyMode !== 'dedicated',
        token: tokenSource(config.authToken),
      });
    const manager = new CertificateManager({ caClient: caClient ?? (await configured()) });
    const log = logging.scope('identity');
    manager.on('fetchError', (identity, error) =>
      log.warn({ identity, error: error.message }, 'certificate fetch failed; will retry'),
    );
    manager.on('change', (identity, certificate) =>
      log.info({ identity, expires: certificate.notAfter.toISOString() }, 'certificate ready'),
    );
    return new WorkloadIdentities(manager, state, config.proxyMode !== 'dedicated');
  }

  /** Start prefetching/forgetting as local workloads come and go (not in dedicated mode). */
  start(): void {
    if (!this.#prefetch) return;
    for (const workload of this.#state.localWorkloads())
      if (wantsCertificate(workload)) this.manager.prefetch(workloadIdentity(workload));
    this.#unsubscribe = this.#state.subscribe((change) => {
      for (const workload of change.workloads.upserted) {
        if (this.#state.isLocal(workload) && wantsCertificate(workload))
          this.manager.prefetch(workloadIdentity(workload));
      }
      const remaining = new Set(this.#state.localWorkloads().filter(wantsCertificate).map(workloadIdentity));
      for (const workload of [...change.workloads.removed, ...change.workloads.upserted]) {
        const identity = workloadIdentity(workload);
        if (!remaining.has(identity)) this.manager.forget(identity);
      }
    });
  }

  /**
   * Credentials for a local identity; waits for the CA when none is cached (on-demand priority). The
   * same object until the certificate rotates, so HBONE recognises it without comparing PEMs.
   */
  credentials(identity: string): Promise<Credentials> {
    return this.#credentials.credentials(identity, 'realtime');
  }

  close(): void {
    this.#unsubscribe?.();
    this.manager.close();
  }
}
