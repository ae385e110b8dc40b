// Trust bundles: the root certificates of each trust domain, replaceable while the process runs.
import { EventEmitter } from 'node:events';
import type { X509Certificate } from 'node:crypto';
import { toCertificates } from './certificates.ts';
import { SpiffeError } from './errors.ts';
import { parseTrustDomain } from './spiffe-id.ts';

/** The set of roots that anchor one trust domain's SVIDs. */
export class TrustBundle {
  readonly trustDomain: string;
  readonly roots: readonly X509Certificate[];
  readonly #fingerprints: Set<string>;

  constructor(trustDomain: string, roots: readonly X509Certificate[]) {
    this.trustDomain = parseTrustDomain(trustDomain);
    if (roots.length === 0) {
      throw new SpiffeError('BUNDLE_NO_CERTIFICATES', `trust bundle for "${trustDomain}" has no certificates`);
    }
    for (const root of roots) {
      if (!root.ca) {
        throw new SpiffeError(
          'BUNDLE_NOT_CA',
          `trust bundle for "${trustDomain}": certificate ${root.subject || root.serialNumber} is not a CA (basicConstraints cA is false)`,
        );
      }
    }
    this.roots = [...roots];
    this.#fingerprints = new Set(roots.map((root) => root.fingerprint256));
  }

  /** Load from PEM; one text may hold several roots (as Istio's CA answers carry them). */
  static fromPem(trustDomain: string, pem: string): TrustBundle {
    let roots: X509Certificate[];
    try {
      roots = toCertificates(pem);
    } catch (error) {
      throw new SpiffeError('BUNDLE_BAD_PEM', `trust bundle for "${trustDomain}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new TrustBundle(trustDomain, roots);
  }

  /** Whether this exact certificate is one of the roots. */
  has(cert: X509Certificate): boolean {
    return this.#fingerprints.has(cert.fingerprint256);
  }

  toPem(): string {
    return this.roots.map((root) => root.toString()).join('');
  }
}

export interface TrustBundleSetEvents {
  change: [trustDomain: string];
}

/** Bundles by trust domain. Emits `change` with the trust domain whenever one is set or removed. */
export class TrustBundleSet extends EventEmitter<TrustBundleSetEvents> {
  readonly #bundles = new Map<string, TrustBundle>();

  constructor(bundles: Iterable<TrustBundle> = []) {
    super();
    for (const bundle of bundles) this.#bundles.set(bundle.trustDomain, bundle);
  }

  get(trustDomain: string): TrustBundle | undefined {
    return this.#bundles.get(trustDomain);
  }

  /** Add or replace a trust domain's bundle; verification from now on uses the new roots. */
  set(bundle: TrustBundle): void {
    this.#bundles.set(bundle.trustDomain, bundle);
    this.emit('change', bundle.trustDomain);
  }

  delete(trustDomain: string): boolean {
    const removed = this.#bundles.delete(trustDomain);
    if (removed) this.emit('change', trustDomain);
    return removed;
  }

  trustDomains(): string[] {
    return [...this.#bundles.keys()];
  }

  /** Every root of every bundle, e.g. for a node:tls `ca` option. */
  allRoots(): X509Certificate[] {
    return [...this.#bundles.values()].flatMap((bundle) => bundle.roots);
  }
}
