// Node mode's listener factory: every local HBONE workload gets, on each of its own IPs, an HBONE server
// (15008) and a plaintext inbound listener (15006) — on one machine those IPs are loopback addresses like
// 127.0.2.3, which Linux binds without root. Listeners follow workloads as they come and go. In-pod
// capture (a later issue) replaces this with listeners created inside each pod's network namespace.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Workload } from '@ambient-ts/discovery';
import type { HboneServer } from '@ambient-ts/hbone';
import type { Logger } from 'pino';

export const HBONE_INBOUND_PORT = 15008;
export const PLAINTEXT_INBOUND_PORT = 15006;

interface Bound {
  hbone?: HboneServer;
  plaintext?: Server;
  error?: string;
}

export interface WorkloadListenerDeps {
  log: Logger;
  createHboneServer: () => HboneServer;
  onPlaintext: (socket: Socket) => void;
  /** Which workloads get listeners (captured = local and HBONE). */
  serves: (workload: Workload) => boolean;
  workloads: () => Workload[];
}

export class WorkloadListeners {
  readonly #deps: WorkloadListenerDeps;
  readonly #bound = new Map<string, Bound>();
  #syncing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(deps: WorkloadListenerDeps) {
    this.#deps = deps;
  }

  /** Bind listeners for new local workload IPs and drop those of workloads that left. Serialized. */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync());
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    if (this.#closed) return;
    const wanted = new Set(
      this.#deps
        .workloads()
        .filter(this.#deps.serves)
        .flatMap((workload) => workload.workloadIps),
    );
    for (const ip of [...this.#bound.keys()]) {
      if (wanted.has(ip)) continue;
      const bound = this.#bound.get(ip)!;
      this.#bound.delete(ip);
      await this.#close(bound, 1000);
      this.#deps.log.info({ ip }, 'workload left: closed its listeners');
    }
    for (const ip of wanted) {
      const bound = this.#bound.get(ip);
      // New workloads bind; earlier failures (the port was taken) are retried on every sync.
      if (!bound || bound.error) this.#bound.set(ip, await this.#bind(ip));
    }
  }

  /** Whether some workload IP could not be bound (the proxy is then not ready). */
  get failing(): boolean {
    return [...this.#bound.values()].some((bound) => bound.error !== undefined);
  }

  async #bind(ip: string): Promise<Bound> {
    const bound: Bound = {};
    try {
      const hbone = this.#deps.createHboneServer();
      await hbone.listen({ host: ip, port: HBONE_INBOUND_PORT });
      bound.hbone = hbone;
      const plaintext = createServer({ noDelay: true, allowHalfOpen: true }, this.#deps.onPlaintext);
      plaintext.listen({ host: ip, port: PLAINTEXT_INBOUND_PORT });
      await once(plaintext, 'listening');
      bound.plaintext = plaintext;
      this.#deps.log.info(
        { ip, hbone: HBONE_INBOUND_PORT, plaintext: PLAINTEXT_INBOUND_PORT },
        'listening for workload',
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      bound.error = `cannot listen on ${ip} (${code ?? (error as Error).message})${code === 'EADDRINUSE' ? ': another process holds the workload port' : code === 'EADDRNOTAVAIL' ? ': the address is not local to this host' : ''}`;
      this.#deps.log.error({ ip, error: bound.error }, 'workload listener failed');
      await this.#close(bound, 0);
    }
    return bound;
  }

  async #close(bound: Bound, deadlineMs: number): Promise<void> {
    bound.plaintext?.close();
    await bound.hbone?.drain(deadlineMs).catch(() => {});
  }

  /** Addresses currently served, and failures to bind. */
  status(): { ip: string; listening: boolean; error?: string }[] {
    return [...this.#bound].map(([ip, bound]) => ({
      ip,
      listening: !!bound.hbone,
      ...(bound.error ? { error: bound.error } : {}),
    }));
  }

  /** Stop accepting everywhere (drain step 1). */
  async stopAccepting(): Promise<void> {
    this.#closed = true;
    await this.#syncing;
    for (const bound of this.#bound.values()) bound.plaintext?.close();
  }

  /** GOAWAY to HBONE peers and close when their streams end (or the deadline passes). */
  async drain(deadlineMs: number): Promise<void> {
    await Promise.all([...this.#bound.values()].map((bound) => bound.hbone?.drain(deadlineMs).catch(() => {})));
  }
}
