// Every live proxied connection with the function that closes it, so a policy change can close the
// ones it now denies, drain can wait for them (and close the rest at its deadline), and an admin dump
// can list them. `carry()` is the one way a handler registers, splices, unregisters and reports.
import type { Duplex } from 'node:stream';
import { splice } from '@ambient-ts/hbone';
import { spliceCloseReason, type CloseReason, type ConnectionEnd } from './close-reason.ts';

export type Tracked<Info extends object> = Info & { readonly id: number; readonly startedAt: number };

/** Tears the connection down; called at most once, with the first reason. */
export type Closer = (reason: CloseReason) => void;

export class ConnectionTracker<Info extends object> {
  readonly #connections = new Map<number, { connection: Tracked<Info>; close: Closer }>();
  readonly #idle = new Set<() => void>();
  #nextId = 1;

  /** Track a connection; returns the function to call when it ends. */
  register(info: Info, close: Closer): () => void {
    const id = this.#nextId++;
    let closed = false;
    const once: Closer = (reason) => {
      if (closed) return;
      closed = true;
      close(reason);
    };
    this.#connections.set(id, { connection: { ...info, id, startedAt: Date.now() }, close: once });
    return () => {
      if (!this.#connections.delete(id) || this.#connections.size > 0) return;
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    };
  }

  get size(): number {
    return this.#connections.size;
  }

  list(): Tracked<Info>[] {
    return [...this.#connections.values()].map((entry) => entry.connection);
  }

  /** Close each connection `decide` gives a reason for. Returns what was closed, and why. */
  closeWhere(
    decide: (connection: Tracked<Info>) => CloseReason | undefined,
  ): { connection: Tracked<Info>; reason: CloseReason }[] {
    const closed: { connection: Tracked<Info>; reason: CloseReason }[] = [];
    for (const { connection, close } of [...this.#connections.values()]) {
      const reason = decide(connection);
      if (!reason) continue;
      closed.push({ connection, reason });
      close(reason);
    }
    return closed;
  }

  /** Close every connection (or those `filter` selects) with one reason; returns how many. */
  closeAll(reason: CloseReason, filter: (connection: Tracked<Info>) => boolean = () => true): number {
    return this.closeWhere((connection) => (filter(connection) ? reason : undefined)).length;
  }

  /** Resolves once no connection is tracked. */
  whenIdle(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }
}

export interface CarryOptions<Info extends object> {
  tracker: ConnectionTracker<Info>;
  /** What the tracker lists for this connection. */
  info: Info;
  /** The client side: bytes read from it are the request direction. */
  downstream: Duplex;
  upstream: Duplex;
  /** How to tear both legs down when the tracker closes the connection. Default: destroy both. */
  teardown?: (reason: CloseReason) => void;
  /** Called once the splice is in place, before bytes flow (e.g. resume a socket paused by a handshake). */
  flowing?: () => void;
}

/**
 * Register → splice → unregister: carry the bytes until the connection ends, and say how it ended.
 * A close from the tracker (policy, drain) wins over what the splice saw as a result of it.
 */
export async function carry<Info extends object>(options: CarryOptions<Info>): Promise<ConnectionEnd> {
  const { downstream, upstream } = options;
  let closedBy: CloseReason | undefined;
  const unregister = options.tracker.register(options.info, (reason) => {
    closedBy = reason;
    if (options.teardown) options.teardown(reason);
    else {
      downstream.destroy();
      upstream.destroy();
    }
  });
  try {
    const spliced = splice(downstream, upstream);
    options.flowing?.();
    const result = await spliced.done;
    return { requestBytes: result.aToB, responseBytes: result.bToA, reason: closedBy ?? spliceCloseReason(result) };
  } finally {
    unregister();
  }
}
