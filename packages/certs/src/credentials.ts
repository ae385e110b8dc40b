// The one credential source both proxies hand to HBONE: the current certificate of an identity as the
// three PEMs a TLS context needs, as the SAME object until the certificate manager rotates that
// identity's certificate. HBONE can then recognise credentials (and reuse its TLS contexts and pooled
// connections) by object identity instead of comparing PEMs, and a rotation shows as a new object.
import type { WorkloadCertificate } from './ca-client.ts';
import type { CertificateManager } from './manager.ts';
import type { Priority } from './fetch-queue.ts';

/** What the HBONE layer presents (chain + key) and trusts (roots) for one identity. */
export interface WorkloadCredentials {
  readonly certChainPem: string;
  readonly privateKeyPem: string;
  readonly rootCertsPem: string;
}

export class CredentialSource {
  readonly manager: CertificateManager;
  // Keyed by the manager's certificate object: one per identity and certificate generation, released
  // with the certificate it was made from.
  readonly #made = new WeakMap<WorkloadCertificate, WorkloadCredentials>();

  constructor(manager: CertificateManager) {
    this.manager = manager;
  }

  /**
   * Credentials for `identity`: the same object while its certificate stays current, a new one after
   * rotation. Waits for the CA when no certificate is cached (`realtime` priority: a connection waits).
   */
  async credentials(identity: string, priority: Priority = 'realtime'): Promise<WorkloadCredentials> {
    const certificate = await this.manager.getCertificate(identity, priority);
    let credentials = this.#made.get(certificate);
    if (!credentials) {
      credentials = Object.freeze({
        certChainPem: certificate.certChainPem,
        privateKeyPem: certificate.privateKeyPem,
        rootCertsPem: certificate.rootCertsPem,
      });
      this.#made.set(certificate, credentials);
    }
    return credentials;
  }
}
