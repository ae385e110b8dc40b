// Certificates for many identities: fetched on demand or ahead of time, refreshed at half-life, retried
// with capped exponential backoff while a still-valid certificate keeps being served, at most N CA
// calls in flight in priority order, and concurrent requests for one identity sharing one fetch.
import { EventEmitter } from 'node:events';
import type { CaClient, WorkloadCertificate } from './ca-client.ts';
import { SpiffeId } from '@ambient-ts/spiffe';
import { systemClock, type Clock } from './clock.ts';
import { checkIdentity } from './csr.ts';
import { asCertsError, CertsError } from './errors.ts';
import { FetchQueue, higher, type Priority } from './fetch-queue.ts';
import { dumpCertificates, type CertificateDump } from './manager-dump.ts';
import { lastFailure, usableCertificate, type CertificateStatus, type Entry, type Waiter } from './manager-state.ts';
import { backoffDelay, defaultBackoff, refreshTime, type BackoffPolicy } from './schedule.ts';

export interface CertificateManagerOptions {
  caClient: CaClient;
  clock?: Clock;
  /** CA calls in flight at once. Default 8 (ztunnel's). */
  maxConcurrent?: number;
  /** Retry policy; default 1 s doubling to 150 s, ±20 % jitter. */
  backoff?: Partial<BackoffPolicy>;
  /** Refresh up to this fraction of the lifetime before half-life. Default 0.05. */
  refreshJitter?: number;
  /** Source of randomness for jitter, in [0, 1). */
  random?: () => number;
}

export interface CertificateManagerEvents {
  /** A new certificate for `identity`: use it for new handshakes; live connections keep theirs. */
  change: [identity: string, certificate: WorkloadCertificate];
  /** A CA call for `identity` failed (the manager retries by itself). */
  fetchError: [identity: string, error: CertsError];
}

export interface GetCertificateOptions {
  priority?: Priority;
  signal?: AbortSignal;
}

export class CertificateManager extends EventEmitter<CertificateManagerEvents> {
  readonly #ca: CaClient;
  readonly #clock: Clock;
  readonly #maxConcurrent: number;
  readonly #backoff: BackoffPolicy;
  readonly #refreshJitter: number;
  readonly #random: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #queue = new FetchQueue<Entry>();
  #inflight = 0;
  #closed = false;

  constructor(options: CertificateManagerOptions) {
    super();
    this.#ca = options.caClient;
    this.#clock = options.clock ?? systemClock;
    this.#maxConcurrent = options.maxConcurrent ?? 8;
    if (!Number.isInteger(this.#maxConcurrent) || this.#maxConcurrent < 1) {
      throw new CertsError('INVALID_OPTIONS', `maxConcurrent must be a positive integer, got ${options.maxConcurrent}`);
    }
    this.#backoff = { ...defaultBackoff, ...options.backoff };
    this.#refreshJitter = options.refreshJitter ?? 0.05;
    this.#random = options.random ?? Math.random;
  }

  /**
   * The current certificate for `identity`, fetching it if needed. Rejects with `CERT_UNAVAILABLE`
   * (cause: the CA error) when fetching failed and no valid certificate is left; retries continue.
   */
  getCertificate(identity: string, options: Priority | GetCertificateOptions = {}): Promise<WorkloadCertificate> {
    const { priority = 'realtime', signal } = typeof options === 'string' ? { priority: options } : options;
    if (this.#closed) return Promise.reject(closedError());
    try {
      checkIdentity(identity);
    } catch (error) {
      return Promise.reject(error as CertsError);
    }
    const entry = this.#entry(identity);
    const certificate = usableCertificate(entry, this.#clock);
    if (certificate) return Promise.resolve(certificate);
    const failure = lastFailure(entry);
    if (entry.fetch.fetch === 'scheduled' && failure) {
      // Backing off after a failure: fail fast, only connections needing this identity are affected.
      entry.priority = higher(entry.priority, priority);
      return Promise.reject(unavailable(identity, failure));
    }
    this.#request(entry, priority);
    return new Promise<WorkloadCertificate>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (cert) => settle(() => resolve(cert)),
        reject: (error) => settle(() => reject(error)),
      };
      const onAbort = (): void =>
        waiter.reject(new CertsError('ABORTED', `stopped waiting for the certificate of ${identity}`));
      const settle = (done: () => void): void => {
        entry.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        done();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.waiters.add(waiter);
    });
  }

  /**
   * Fetch ahead of time (a local workload appeared) at warmup priority; no-op if already held or pending.
   * Returns false, managing nothing, for an identity that is not a workload SPIFFE ID (or after close).
   */
  prefetch(identity: string): boolean {
    if (this.#closed || !SpiffeId.tryParse(identity)?.path) return false;
    const entry = this.#entry(identity);
    if (usableCertificate(entry, this.#clock) || entry.fetch.fetch === 'scheduled') return true;
    this.#request(entry, 'warmup');
    return true;
  }

  /** Stop managing `identity` (its last local workload went): no more refreshes; a late result is dropped. */
  forget(identity: string): boolean {
    const entry = this.#entries.get(identity);
    if (!entry) return false;
    this.#entries.delete(identity);
    this.#drop(entry, new CertsError('CERT_FORGOTTEN', `the certificate of ${identity} was forgotten while waiting`));
    return true;
  }

  status(identity: string): CertificateStatus | undefined {
    const entry = this.#entries.get(identity);
    if (!entry) return undefined;
    const certificate = usableCertificate(entry, this.#clock);
    const error = lastFailure(entry);
    const at = entry.fetch.fetch === 'scheduled' ? new Date(entry.fetch.at) : undefined;
    const state = !certificate && error ? 'unavailable' : entry.cert.state;
    return {
      identity,
      state,
      ...(certificate ? { certificate } : {}),
      ...(error ? { error } : {}),
      ...(at ? { nextFetchAt: at } : {}),
    };
  }

  identities(): string[] {
    return [...this.#entries.keys()];
  }

  /** Entries for ztunnel's `/config_dump` `certificates` list, sorted by identity. */
  snapshot(): CertificateDump[] {
    return [...this.#entries.values()]
      .map((entry): CertificateDump => {
        const certificate = usableCertificate(entry, this.#clock);
        const error = lastFailure(entry);
        const state = certificate ? 'Available' : error ? `Unavailable: ${error.message}` : 'Initializing';
        return {
          identity: entry.identity,
          state,
          certChain: dumpCertificates(certificate?.certChainPem),
          rootCerts: dumpCertificates(certificate?.rootCertsPem),
        };
      })
      .sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
  }

  /** Cancel every timer and pending fetch; waiters get MANAGER_CLOSED. The CA client is not closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#entries.values()) this.#drop(entry, closedError());
    this.#entries.clear();
  }

  #entry(identity: string): Entry {
    let entry = this.#entries.get(identity);
    if (!entry) {
      entry = {
        identity,
        cert: { state: 'initializing' },
        fetch: { fetch: 'idle' },
        priority: 'background',
        failures: 0,
        waiters: new Set(),
      };
      this.#entries.set(identity, entry);
    }
    return entry;
  }

  /** Make sure a fetch is queued or running at no less than `priority`. */
  #request(entry: Entry, priority: Priority): void {
    entry.priority = higher(entry.priority, priority);
    switch (entry.fetch.fetch) {
      case 'inflight':
        return;
      case 'scheduled':
        entry.fetch.timer.cancel();
        break;
      case 'queued':
      case 'idle':
        break;
    }
    entry.fetch = { fetch: 'queued' };
    this.#queue.push(entry, priority, this.#clock.now());
    this.#pump();
  }

  #pump(): void {
    while (this.#inflight < this.#maxConcurrent) {
      const entry = this.#queue.pop();
      if (!entry) return;
      void this.#run(entry);
    }
  }

  async #run(entry: Entry): Promise<void> {
    const controller = new AbortController();
    entry.fetch = { fetch: 'inflight', controller };
    this.#inflight += 1;
    let result: { ok: true; certificate: WorkloadCertificate } | { ok: false; error: CertsError };
    try {
      const certificate = await this.#ca.fetchCertificate(entry.identity, { signal: controller.signal });
      result = { ok: true, certificate };
    } catch (error) {
      result = { ok: false, error: asCertsError(error, 'CA_CALL_FAILED', `fetching ${entry.identity}`) };
    }
    this.#inflight -= 1;
    try {
      // Forgotten (or closed) while in flight: the result belongs to no one.
      if (this.#closed || this.#entries.get(entry.identity) !== entry) return;
      if (result.ok) this.#succeeded(entry, result.certificate);
      else this.#failed(entry, result.error);
    } finally {
      this.#pump();
    }
  }

  #succeeded(entry: Entry, certificate: WorkloadCertificate): void {
    entry.cert = { state: 'available', certificate };
    entry.failures = 0;
    entry.priority = 'background';
    const at = refreshTime(certificate, this.#clock.now(), this.#refreshJitter, this.#random());
    this.#schedule(entry, at, 'refresh');
    for (const waiter of [...entry.waiters]) waiter.resolve(certificate);
    this.emit('change', entry.identity, certificate);
  }

  #failed(entry: Entry, error: CertsError): void {
    const delay = backoffDelay(entry.failures, this.#backoff, this.#random());
    entry.failures += 1;
    const now = this.#clock.now();
    const certificate = usableCertificate(entry, this.#clock);
    if (certificate) {
      // Keep serving the valid certificate; retry no later than its expiry.
      entry.cert = { state: 'refreshing', certificate, lastError: error };
      this.#schedule(entry, Math.min(now + delay, certificate.notAfter.getTime()), 'retry');
    } else {
      entry.cert = { state: 'unavailable', error };
      this.#schedule(entry, now + delay, 'retry');
      for (const waiter of [...entry.waiters]) waiter.reject(unavailable(entry.identity, error));
    }
    this.emit('fetchError', entry.identity, error);
  }

  #schedule(entry: Entry, at: number, kind: 'refresh' | 'retry'): void {
    const timer = this.#clock.setTimer(() => {
      if (this.#entries.get(entry.identity) !== entry || entry.fetch.fetch !== 'scheduled') return;
      entry.fetch = { fetch: 'idle' };
      if (kind === 'refresh' && entry.cert.state === 'available') {
        entry.cert = { state: 'refreshing', certificate: entry.cert.certificate };
      }
      this.#request(entry, kind === 'refresh' ? 'background' : entry.priority);
    }, at - this.#clock.now());
    entry.fetch = { fetch: 'scheduled', timer, at, kind };
  }

  #drop(entry: Entry, error: CertsError): void {
    if (entry.fetch.fetch === 'scheduled') entry.fetch.timer.cancel();
    if (entry.fetch.fetch === 'inflight') entry.fetch.controller.abort();
    this.#queue.remove(entry);
    entry.fetch = { fetch: 'idle' };
    for (const waiter of [...entry.waiters]) waiter.reject(error);
  }
}

function unavailable(identity: string, cause: CertsError): CertsError {
  return new CertsError('CERT_UNAVAILABLE', `no valid certificate for ${identity}: ${cause.message}`, {
    cause,
    reason: cause.code,
  });
}

function closedError(): CertsError {
  return new CertsError('MANAGER_CLOSED', 'the certificate manager is closed');
}
