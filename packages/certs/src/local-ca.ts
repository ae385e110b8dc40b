// An in-process CA client (ztunnel's FAKE_CA): generates a key and CSR and has a CertificateAuthority
// (@ambient-ts/ca) in the same process sign it, through the same CSR parsing and answer checks as a
// remote CA. What the authority throws is reported as a CertsError with the same code, as from any client.
import { CaError, CertificateAuthority, csrIdentity, type AuthorityClock } from '@ambient-ts/ca';
import { createCsr, generatePrivateKey, parseCsr } from '@ambient-ts/pki';
import { SpiffeId } from '@ambient-ts/spiffe';
import type { CaClient, FetchOptions, WorkloadCertificate } from './ca-client.ts';
import { checkIdentity } from './csr.ts';
import { CertsError } from './errors.ts';
import { checkKeyAlgorithm, type KeyAlgorithm } from './keys.ts';
import { workloadCertificateFromChain } from './response.ts';

/** Run `work`, reporting a CaError (e.g. CA_EXPIRED) as a CertsError with the same code. */
async function asClientError<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw CaError.isCaError(error) ? new CertsError(error.code, error.message, { cause: error }) : error;
  }
}

export interface LocalCaOptions {
  /** Signing CA. Use `LocalCa.create` to make a fresh self-signed one. */
  authority: CertificateAuthority;
  /** Lifetime of issued certificates. Default 24 h. */
  ttlSeconds?: number;
  keyAlgorithm?: KeyAlgorithm;
  /** Clock for validity checks; pass the same one to the authority to test rotation with a fake clock. */
  clock?: AuthorityClock;
}

export class LocalCa implements CaClient {
  readonly authority: CertificateAuthority;
  readonly #ttlSeconds: number;
  readonly #keyAlgorithm: KeyAlgorithm;
  readonly #clock: AuthorityClock | undefined;

  constructor(options: LocalCaOptions) {
    this.authority = options.authority;
    this.#ttlSeconds = options.ttlSeconds ?? 86_400;
    if (!(this.#ttlSeconds > 0)) throw new CertsError('INVALID_OPTIONS', `LocalCa: ttlSeconds must be positive`);
    this.#keyAlgorithm = checkKeyAlgorithm(options.keyAlgorithm, 'LocalCa');
    this.#clock = options.clock;
  }

  /** A LocalCa with a fresh self-signed root for `trustDomain` (default `cluster.local`). */
  static async create(options: { trustDomain?: string } & Omit<LocalCaOptions, 'authority'> = {}): Promise<LocalCa> {
    const authority = await asClientError(() =>
      CertificateAuthority.create({
        trustDomain: options.trustDomain ?? 'cluster.local',
        commonName: 'ambient-ts local CA',
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    );
    return new LocalCa({ ...options, authority });
  }

  async fetchCertificate(identity: string, options: FetchOptions = {}): Promise<WorkloadCertificate> {
    if (SpiffeId.parse(checkIdentity(identity)).trustDomain !== this.authority.trustDomain) {
      throw new CertsError(
        'CA_PERMISSION_DENIED',
        `the local CA issues identities of trust domain "${this.authority.trustDomain}" only, not ${identity}`,
        { reason: 'DENIED_TRUST_DOMAIN' },
      );
    }
    const key = await generatePrivateKey(this.#keyAlgorithm);
    if (options.signal?.aborted) throw new CertsError('ABORTED', `the certificate request for ${identity} was aborted`);
    const csr = parseCsr(createCsr(identity, key));
    const chain = await asClientError(() =>
      this.authority.signWorkload(csrIdentity(csr), csr.publicKeyDer, this.#ttlSeconds),
    );
    return workloadCertificateFromChain({
      identity,
      chain,
      privateKey: key,
      now: this.#clock?.now() ?? Date.now(),
    });
  }
}
