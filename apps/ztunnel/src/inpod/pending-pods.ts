// Pods whose proxy failed to start (facts §9.1): the client NACKs the Add but keeps the pod and its netns fd,
// retries every few seconds until the proxy starts or the pod is deleted, and holds a readiness task per pod
// meanwhile. The fd belongs to this set until the registry accepts it; forgetting a pod closes it.
import { closeSync } from 'node:fs';
import { ZdsError, type NetnsId, type PodInfo } from './protocol.ts';
import type { PendingPod, PodRegistry, ReadinessTasks, ZdsLogger } from './zds-types.ts';

/** Readiness task per pending pod. */
export const pendingPodTask = (uid: string) => `zds pod ${uid}`;

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Close an fd we were handed; already closed is fine. */
export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

interface Pending {
  readonly info: PodInfo;
  readonly fd: number;
  readonly netnsId: NetnsId;
  error: string;
  attempts: number;
}

export interface PendingPodsOptions {
  readonly registry: PodRegistry;
  readonly log: ZdsLogger;
  readonly retryMs: number;
  readonly readiness?: ReadinessTasks;
  /** Runs a retry in the client's request order (so it never interleaves with a request). */
  readonly run: (task: () => Promise<void>) => void;
}

export class PendingPods {
  readonly #options: PendingPodsOptions;
  readonly #pods = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: PendingPodsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#pods.size;
  }

  list(): PendingPod[] {
    return [...this.#pods].map(([uid, pod]) => ({
      uid,
      name: pod.info.name,
      namespace: pod.info.namespace,
      error: pod.error,
      attempts: pod.attempts,
    }));
  }

  /** Start the pod's proxy; on failure keep it for retries and return the NACK message. */
  async start(uid: string, info: PodInfo, fd: number, netnsId: NetnsId): Promise<string | undefined> {
    this.forget(uid); // a newer Add replaces a pending one
    const { registry, log, readiness, retryMs } = this.#options;
    try {
      await registry.add(uid, info, fd, netnsId);
      log.info({ uid, pod: `${info.namespace}/${info.name}` }, 'pod added');
      return undefined;
    } catch (error) {
      this.#pods.set(uid, { info, fd, netnsId, error: errorText(error), attempts: 1 });
      readiness?.register(pendingPodTask(uid));
      this.#schedule();
      log.warn({ uid, error: errorText(error) }, 'pod proxy failed to start, NACK and retry');
      return new ZdsError(
        'ZDS_POD_START_FAILED',
        `pod ${uid} (${info.namespace}/${info.name}): starting its proxy failed: ${errorText(error)}; retrying every ${retryMs} ms`,
        { uid, cause: error },
      ).message;
    }
  }

  /** Stop retrying the pod and close its fd (deleted, left out of a snapshot, replaced). */
  forget(uid: string): void {
    const pod = this.#pods.get(uid);
    if (!pod) return;
    this.#pods.delete(uid);
    closeFd(pod.fd);
    this.#options.readiness?.complete(pendingPodTask(uid));
  }

  /** Forget every pending pod (that `which` selects). */
  forgetAll(which: (uid: string) => boolean = () => true): void {
    for (const uid of [...this.#pods.keys()]) if (which(uid)) this.forget(uid);
  }

  /** No more retries (the client is closing). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#stopped || this.#pods.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#options.run(() => this.#retry());
    }, this.#options.retryMs);
  }

  async #retry(): Promise<void> {
    for (const [uid, pod] of [...this.#pods]) {
      if (this.#stopped || this.#pods.get(uid) !== pod) continue;
      try {
        await this.#options.registry.add(uid, pod.info, pod.fd, pod.netnsId);
      } catch (error) {
        pod.attempts += 1;
        pod.error = errorText(error);
        continue;
      }
      this.#pods.delete(uid); // the registry owns the fd now
      this.#options.readiness?.complete(pendingPodTask(uid));
      this.#options.log.info({ uid, attempts: pod.attempts + 1 }, 'pod proxy started on retry');
    }
    this.#schedule();
  }
}
