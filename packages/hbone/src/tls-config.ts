// TLS parameters as ztunnel uses them, and a cache of per-credential state (secure contexts, own
// trust domain, trust bundles) so a busy proxy does not rebuild OpenSSL contexts per connection.
import { createHash } from 'node:crypto';
import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { readCertificateFields, SpiffeId, toCertificates, TrustBundle } from '@ambient-ts/spiffe';
import { HboneError } from './errors.ts';

/** What the certificate manager hands out for one workload identity. */
export interface TlsCredentials {
  /** Leaf first, then intermediates (PEM). */
  certChainPem: string;
  privateKeyPem: string;
  /** Trust anchors (PEM, one or more roots). */
  rootCertsPem: string;
}

export const TLS13_CIPHER_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256';
export const TLS12_CIPHERS =
  'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256';
export const ECDH_GROUPS = 'X25519:P-256:P-384';

/** node:tls options shared by both ends: TLS 1.3 only unless `tls12`, AES-GCM only, no tickets. */
export function tlsContextOptions(credentials: TlsCredentials, tls12: boolean): SecureContextOptions {
  return {
    cert: credentials.certChainPem,
    key: credentials.privateKeyPem,
    ca: credentials.rootCertsPem,
    minVersion: tls12 ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: tls12 ? `${TLS13_CIPHER_SUITES}:${TLS12_CIPHERS}` : TLS13_CIPHER_SUITES,
    ecdhCurve: ECDH_GROUPS,
    // Session resumption is off in ztunnel; tickets would also skip our per-connection identity checks.
    secureOptions: constants.SSL_OP_NO_TICKET,
  };
}

/** Per-credential facts derived once: own identity, trust domain, and bundles by trust domain. */
export class CredentialInfo {
  readonly credentials: TlsCredentials;
  readonly tls12: boolean;
  /** First SPIFFE URI SAN of our own leaf. */
  readonly identity: SpiffeId;
  readonly #bundles = new Map<string, TrustBundle>();
  #clientContext: SecureContext | undefined;

  constructor(credentials: TlsCredentials, tls12: boolean) {
    this.credentials = credentials;
    this.tls12 = tls12;
    let leafUris: string[];
    try {
      const [leaf] = toCertificates(credentials.certChainPem);
      leafUris = leaf ? readCertificateFields(leaf).uriSans : [];
    } catch (error) {
      throw new HboneError('INVALID_OPTIONS', `credentials: certChainPem is not a PEM certificate chain`, {
        cause: error,
      });
    }
    const id = leafUris.map((uri) => SpiffeId.tryParse(uri)).find((parsed) => parsed !== undefined);
    if (!id) {
      throw new HboneError(
        'INVALID_OPTIONS',
        'credentials: the leaf certificate has no spiffe:// URI SAN, so it carries no workload identity',
      );
    }
    this.identity = id;
  }

  get trustDomain(): string {
    return this.identity.trustDomain;
  }

  /** The roots, as the bundle of `trustDomain` (our roots anchor every peer, as in ztunnel). */
  bundle(trustDomain: string): TrustBundle {
    let bundle = this.#bundles.get(trustDomain);
    if (!bundle) {
      try {
        bundle = TrustBundle.fromPem(trustDomain, this.credentials.rootCertsPem);
      } catch (error) {
        throw new HboneError('INVALID_OPTIONS', `credentials: rootCertsPem is unusable: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (this.#bundles.size > 16) this.#bundles.clear();
      this.#bundles.set(trustDomain, bundle);
    }
    return bundle;
  }

  clientContext(): SecureContext {
    this.#clientContext ??= createSecureContext(tlsContextOptions(this.credentials, this.tls12));
    return this.#clientContext;
  }
}

/**
 * Caches `CredentialInfo` (and whatever a caller attaches to it) by credentials object, falling back to
 * their content, so rotation (a new object with new PEMs) gets a new entry and old ones age out.
 */
export class CredentialCache<T extends CredentialInfo = CredentialInfo> {
  readonly #byObject = new WeakMap<TlsCredentials, T>();
  readonly #byContent = new Map<string, T>();
  readonly #create: (credentials: TlsCredentials) => T;
  readonly #limit: number;
  readonly #onEvict: ((entry: T) => void) | undefined;

  constructor(
    create: (credentials: TlsCredentials) => T,
    options: { limit?: number; onEvict?: (entry: T) => void } = {},
  ) {
    this.#create = create;
    this.#limit = options.limit ?? 256;
    this.#onEvict = options.onEvict;
  }

  get(credentials: TlsCredentials): T {
    const known = this.#byObject.get(credentials);
    if (known) return known;
    const key = createHash('sha256')
      .update(credentials.certChainPem)
      .update('\0')
      .update(credentials.privateKeyPem)
      .update('\0')
      .update(credentials.rootCertsPem)
      .digest('base64');
    let entry = this.#byContent.get(key);
    if (entry) {
      // Refresh recency: Map iteration order is insertion order.
      this.#byContent.delete(key);
    } else {
      entry = this.#create(credentials);
    }
    this.#byContent.set(key, entry);
    this.#byObject.set(credentials, entry);
    while (this.#byContent.size > this.#limit) {
      const [oldestKey, oldest] = this.#byContent.entries().next().value as [string, T];
      this.#byContent.delete(oldestKey);
      this.#onEvict?.(oldest);
    }
    return entry;
  }

  values(): IterableIterator<T> {
    return this.#byContent.values();
  }
}
