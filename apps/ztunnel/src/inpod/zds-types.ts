// The ZDS client's surface: what it needs (a pod registry, a transport, a logger, readiness) and what it
// reports (its state and status). The state machine itself is in zds-client.ts.
import type { NetnsId, PodInfo } from './protocol.ts';
import type { ZdsTransport } from './transport.ts';

/** Where pods go; the per-pod proxies implement it. */
export interface PodRegistry {
  /**
   * Start (or, for a known uid with a different namespace, replace) the pod's proxy. Resolving hands `netnsFd`
   * over; rejecting leaves it with the client, which NACKs and retries.
   */
  add(uid: string, info: PodInfo, netnsFd: number, netnsId: NetnsId): Promise<void>;
  /** Drain and forget the pod's proxy (idempotent). */
  del(uid: string): void | Promise<void>;
  /** After the snapshot: drain every proxy whose uid is not in `keptUids` (the snapshot's Add and Keep). */
  reconcile(keptUids: ReadonlySet<string>): void | Promise<void>;
}

export type ZdsClientState =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'hello-sent' }
  | { readonly state: 'receiving-snapshot' }
  | { readonly state: 'synced' }
  | { readonly state: 'backoff'; readonly attempt: number; readonly delayMs: number; readonly lastError: string }
  | { readonly state: 'closed' };

export interface PendingPod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Why its proxy did not start, last time. */
  readonly error: string;
  readonly attempts: number;
}

export interface ZdsStatus {
  readonly state: ZdsClientState;
  /** A complete snapshot was received (on some connection). */
  readonly snapshotReceived: boolean;
  /** Pods whose proxy failed to start, being retried. */
  readonly pending: readonly PendingPod[];
  /** Ready as Istio's ztunnel means it: snapshot received and no pending pods. */
  readonly ready: boolean;
}

/** pino's Logger fits. */
export interface ZdsLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** telemetry's Readiness fits: registered tasks keep /healthz/ready "not ready" until completed. */
export interface ReadinessTasks {
  register(task: string): void;
  complete(task: string): void;
}

export interface ZdsClientOptions {
  /** INPOD_UDS */
  readonly path: string;
  readonly registry: PodRegistry;
  readonly transport: ZdsTransport;
  /** Retry of pods whose proxy failed to start; default 5000 ms. */
  readonly retryIntervalMs?: number;
  /** Reconnect backoff, doubling from initialMs (10) to maxMs (15000). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly log?: ZdsLogger;
  readonly readiness?: ReadinessTasks;
  readonly onStateChange?: (state: ZdsClientState) => void;
}
