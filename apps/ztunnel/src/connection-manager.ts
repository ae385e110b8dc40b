// Every live proxied connection, so that policy changes can re-check inbound ones (closing those now
// denied, like ztunnel's PolicyWatcher), drain can wait for them, and /config_dump can list them.

export interface ConnectionInfo {
  direction: 'inbound' | 'outbound';
  /** Client socket address `ip:port`. */
  source: string;
  /** Where the proxy sends bytes next (`ip:port`). */
  destination: string;
  /** CONNECT authority, when tunneled. */
  hboneAuthority?: string;
  sourceIdentity?: string;
  /** Workload uid this connection belongs to locally (destination for inbound, source for outbound). */
  localWorkload: string;
  /** Attributes a policy re-check needs (inbound). */
  policy?: { sourceIp: string; sourceIdentity?: string; destinationIp: string; destinationPort: number };
}

export interface TrackedConnection extends ConnectionInfo {
  readonly id: number;
  readonly startedAt: number;
}

type Closer = (reason: string) => void;

export class ConnectionManager {
  readonly #connections = new Map<number, { connection: TrackedConnection; close: Closer }>();
  readonly #idle = new Set<() => void>();
  #nextId = 1;

  /** Track a connection; returns the function to call when it ends. */
  register(info: ConnectionInfo, close: Closer): () => void {
    const id = this.#nextId++;
    this.#connections.set(id, { connection: { ...info, id, startedAt: Date.now() }, close });
    return () => {
      if (!this.#connections.delete(id) || this.#connections.size > 0) return;
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    };
  }

  get size(): number {
    return this.#connections.size;
  }

  list(): TrackedConnection[] {
    return [...this.#connections.values()].map((entry) => entry.connection);
  }

  /**
   * Re-evaluate inbound connections after a policy or workload change; those the check now denies are
   * closed with its reason. Returns what was closed.
   */
  recheck(
    check: (connection: TrackedConnection) => { allowed: boolean; reason: string },
  ): { connection: TrackedConnection; reason: string }[] {
    const closed: { connection: TrackedConnection; reason: string }[] = [];
    for (const { connection, close } of [...this.#connections.values()]) {
      if (connection.direction !== 'inbound' || !connection.policy) continue;
      const verdict = check(connection);
      if (verdict.allowed) continue;
      closed.push({ connection, reason: verdict.reason });
      close(verdict.reason);
    }
    return closed;
  }

  /** Close every connection (end of the drain window) or those of one workload. */
  closeAll(reason: string, filter: (connection: TrackedConnection) => boolean = () => true): number {
    let count = 0;
    for (const { connection, close } of [...this.#connections.values()]) {
      if (!filter(connection)) continue;
      close(reason);
      count += 1;
    }
    return count;
  }

  /** Resolves once no connection is tracked. */
  whenIdle(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }
}
