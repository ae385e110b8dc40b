// The PodRegistry of shared mode: one PodProxy per pod uid, as the ZDS client says (facts §9.1). Add is
// idempotent per uid (the same namespace keeps the running proxy; another namespace drains the old one and
// starts a new one), Del and reconcile drain, and a failed start rejects with what failed and why (the client
// NACKs naming the pod around it, and retries every 5 s). @ambient-ts/netns is an optional dependency: it is
// loaded when the first pod arrives.
import { closeSync } from 'node:fs';
import type * as Netns from '@ambient-ts/netns';
import type { Logger } from 'pino';
import { PodProxy, PodStartError, sameNamespace, type DataPath, type PodProxyStatus } from './pod-proxy.ts';
import type { NetnsId, PodInfo } from './protocol.ts';
import type { PodRegistry } from './zds-types.ts';

export interface PodProxiesOptions {
  data: DataPath;
  /** How long a deleted or replaced pod's connections may continue (CONNECTION_TERMINATION_DEADLINE). */
  drainDeadlineMs: number;
  /** Tests inject a stand-in; default: import('@ambient-ts/netns'). */
  loadNetns?: () => Promise<typeof Netns>;
}

/** What /config_dump shows per pod: a running (or draining) proxy, or one that failed to start. */
export type PodEntry =
  | (PodProxyStatus & { lastError?: string })
  | {
      uid: string;
      name: string;
      namespace: string;
      serviceAccount: string;
      netns: string;
      state: 'failed';
      listeners: [];
      dns: [];
      lastError: string;
    };

export class PodProxies implements PodRegistry {
  readonly #options: PodProxiesOptions;
  readonly #log: Logger;
  readonly #pods = new Map<string, PodProxy>();
  /** Proxies still draining after Del / reconcile / replacement. */
  readonly #draining = new Set<Promise<void>>();
  readonly #failed = new Map<string, { info: PodInfo; netnsId: NetnsId; error: string }>();
  #netns: Promise<typeof Netns> | undefined;
  #closed = false;

  constructor(options: PodProxiesOptions) {
    this.#options = options;
    this.#log = options.data.log.proxy;
  }

  async add(uid: string, info: PodInfo, netnsFd: number, netnsId: NetnsId): Promise<void> {
    const pod = `${info.namespace}/${info.name}`;
    if (this.#closed) throw new PodStartError('ztunnel is shutting down');
    const running = this.#pods.get(uid);
    if (running && sameNamespace(running.netnsId, netnsId)) {
      // The agent re-sent a pod we serve (a reconnect's snapshot, a repeated Add): keep it, release the fd.
      closeSync(netnsFd);
      this.#log.debug({ uid, pod }, 'pod already served from the same namespace');
      return;
    }
    let netns: typeof Netns;
    try {
      netns = await this.#loadNetns();
    } catch (error) {
      throw this.#fail(uid, info, netnsId, (error as Error).message);
    }
    let proxy: PodProxy;
    try {
      proxy = await PodProxy.start({ uid, info, netnsFd, netnsId, netns, data: this.#options.data });
    } catch (error) {
      throw this.#fail(uid, info, netnsId, (error as Error).message);
    }
    this.#failed.delete(uid);
    if (running) {
      this.#log.info({ uid, pod }, 'pod namespace changed: draining the old proxy');
      this.#drainInBackground(running);
    }
    this.#pods.set(uid, proxy);
  }

  del(uid: string): Promise<void> {
    this.#failed.delete(uid);
    const proxy = this.#pods.get(uid);
    if (!proxy) return Promise.resolve();
    this.#pods.delete(uid);
    this.#log.info({ uid, pod: proxy.podName }, 'pod deleted: draining its proxy');
    // Stop accepting before the ACK; the connections that exist get the drain deadline in the background.
    proxy.stopAccepting();
    this.#drainInBackground(proxy);
    return Promise.resolve();
  }

  async reconcile(keptUids: ReadonlySet<string>): Promise<void> {
    for (const uid of [...this.#failed.keys()]) if (!keptUids.has(uid)) this.#failed.delete(uid);
    for (const uid of [...this.#pods.keys()]) {
      if (keptUids.has(uid)) continue;
      this.#log.info({ uid }, 'pod not in the snapshot: draining its proxy');
      await this.del(uid);
    }
  }

  /** Running and failed pods, for /config_dump. */
  list(): PodEntry[] {
    const entries: PodEntry[] = [...this.#pods.values()].map((proxy) => proxy.status());
    for (const [uid, failed] of this.#failed) {
      if (this.#pods.has(uid)) continue;
      entries.push({
        uid,
        name: failed.info.name,
        namespace: failed.info.namespace,
        serviceAccount: failed.info.serviceAccount,
        netns: `${failed.netnsId.dev}:${failed.netnsId.ino}`,
        state: 'failed',
        listeners: [],
        dns: [],
        lastError: failed.error,
      });
    }
    return entries;
  }

  get size(): number {
    return this.#pods.size;
  }

  /** Shutdown step 1: refuse new pods and new connections everywhere. */
  stopAccepting(): void {
    this.#closed = true;
    for (const proxy of this.#pods.values()) proxy.stopAccepting();
  }

  /** Shutdown: drain every pod's proxy (GOAWAY, connections until the deadline), and wait for earlier drains. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    const proxies = [...this.#pods.values()];
    this.#pods.clear();
    await Promise.all([...proxies.map((proxy) => proxy.drain(deadlineMs)), ...this.#draining]);
  }

  #drainInBackground(proxy: PodProxy): void {
    const drained = proxy
      .drain(this.#options.drainDeadlineMs)
      .catch((error: unknown) =>
        this.#log.error({ uid: proxy.uid, error: (error as Error).message }, 'draining a pod proxy failed'),
      )
      .finally(() => this.#draining.delete(drained));
    this.#draining.add(drained);
  }

  #fail(uid: string, info: PodInfo, netnsId: NetnsId, message: string): PodStartError {
    this.#failed.set(uid, { info, netnsId, error: message });
    this.#log.error({ uid, pod: `${info.namespace}/${info.name}`, error: message }, 'pod proxy failed to start');
    return new PodStartError(message);
  }

  #loadNetns(): Promise<typeof Netns> {
    this.#netns ??= (this.#options.loadNetns ?? (() => import('@ambient-ts/netns')))().then((netns) => {
      const support = netns.netnsSupport();
      if (!support.available) throw new Error(`the native helper @ambient-ts/netns is unavailable: ${support.reason}`);
      return netns;
    });
    this.#netns.catch(() => (this.#netns = undefined));
    return this.#netns;
  }
}
