// Per-identity state of the certificate manager, as an explicit state machine:
//   initializing ──ok──▶ available ──half-life──▶ refreshing ──ok──▶ available
//        │                                           │ fail, cert still valid: stay, retry with backoff
//        └──fail──▶ unavailable ◀──fail, cert expired─┘
//   unavailable ──retry ok──▶ available;  any state ──forget──▶ (removed; a late result is dropped)
import type { WorkloadCertificate } from './ca-client.ts';
import type { Clock, Timer } from './clock.ts';
import type { CertsError } from './errors.ts';
import type { Priority } from './fetch-queue.ts';

export type CertState =
  | { state: 'initializing' }
  | { state: 'available'; certificate: WorkloadCertificate }
  | { state: 'refreshing'; certificate: WorkloadCertificate; lastError?: CertsError }
  | { state: 'unavailable'; error: CertsError };

/** Where the entry's next CA call stands. */
export type FetchState =
  | { fetch: 'idle' }
  | { fetch: 'scheduled'; timer: Timer; at: number; kind: 'refresh' | 'retry' }
  | { fetch: 'queued' }
  | { fetch: 'inflight'; controller: AbortController };

export interface Waiter {
  resolve(certificate: WorkloadCertificate): void;
  reject(error: CertsError): void;
}

export interface Entry {
  readonly identity: string;
  cert: CertState;
  fetch: FetchState;
  /** Highest priority asked for since the last success (retries keep it). */
  priority: Priority;
  /** Consecutive failures. */
  failures: number;
  waiters: Set<Waiter>;
}

/** The certificate to hand out now, if any: never an expired one. */
export function usableCertificate(entry: Entry, clock: Clock): WorkloadCertificate | undefined {
  const cert = entry.cert;
  if (cert.state !== 'available' && cert.state !== 'refreshing') return undefined;
  return clock.now() < cert.certificate.notAfter.getTime() ? cert.certificate : undefined;
}

/** The last failure, when no usable certificate is left. */
export function lastFailure(entry: Entry): CertsError | undefined {
  if (entry.cert.state === 'unavailable') return entry.cert.error;
  if (entry.cert.state === 'refreshing') return entry.cert.lastError;
  return undefined;
}

/** Public view of one identity. */
export interface CertificateStatus {
  identity: string;
  state: CertState['state'];
  certificate?: WorkloadCertificate;
  error?: CertsError;
  /** When the next CA call is planned (refresh or retry), if one is scheduled. */
  nextFetchAt?: Date;
}
