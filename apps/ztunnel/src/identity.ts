// Workload certificates for this proxy: one per local identity, from the Istio CA (impersonating the
// workload in node/shared mode) or an in-process CA (FAKE_CA). Prefetched when a local HBONE workload
// appears, forgotten when its last workload goes, fetched on demand when a connection needs one first.
// ztunnel's own token authenticates it to the CA; its own identity is never used for workload mTLS.
import { CertificateManager, IstioCaClient, LocalCa, type CaClient, type WorkloadCertificate } from '@ambient-ts/certs';
import { workloadIdentity, type Workload } from '@ambient-ts/discovery';
import type { Logging } from '@ambient-ts/telemetry';
import type { Config } from './config.ts';
import type { ProxyState } from './proxy-state.ts';
import { tokenSource } from '@ambient-ts/runtime';

/** What the HBONE layer presents and trusts for one identity. */
export interface Credentials {
  certChainPem: string;
  privateKeyPem: string;
  rootCertsPem: string;
}

async function createCaClient(config: Config): Promise<CaClient> {
  if (config.fakeCa)
    return LocalCa.create({ trustDomain: config.self.trustDomain, ttlSeconds: Math.round(config.secretTtlMs / 1000) });
  const token = tokenSource(config.authToken);
  return new IstioCaClient({
    address: config.caAddress!,
    rootCert: config.caRootCa,
    token: () => token() ?? '',
    clusterId: config.clusterId,
    ttlSeconds: Math.round(config.secretTtlMs / 1000),
    impersonate: config.proxyMode !== 'dedicated',
    headers: config.caHeaders,
    ...(config.altCaHostname ? { altHostname: config.altCaHostname } : {}),
  });
}

const wantsCertificate = (workload: Workload): boolean => workload.protocol === 'HBONE' || workload.nativeTunnel;

export class WorkloadIdentities {
  readonly manager: CertificateManager;
  readonly #state: ProxyState;
  readonly #prefetch: boolean;
  #unsubscribe: (() => void) | undefined;

  private constructor(manager: CertificateManager, state: ProxyState, prefetch: boolean) {
    this.manager = manager;
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
    const manager = new CertificateManager({ caClient: caClient ?? (await createCaClient(config)) });
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

  /** Credentials for a local identity; waits for the CA when none is cached (on-demand priority). */
  async credentials(identity: string): Promise<Credentials> {
    const certificate: WorkloadCertificate = await this.manager.getCertificate(identity, 'realtime');
    return {
      certChainPem: certificate.certChainPem,
      privateKeyPem: certificate.privateKeyPem,
      rootCertsPem: certificate.rootCertsPem,
    };
  }

  close(): void {
    this.#unsubscribe?.();
    this.manager.close();
  }
}
