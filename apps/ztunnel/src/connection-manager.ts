// Every live proxied connection, so that policy changes can re-check inbound ones (closing those now
// denied, like ztunnel's PolicyWatcher), drain can wait for them, and /config_dump can list them.
// The tracking itself (and the typed close reasons) is @ambient-ts/proxy-core's ConnectionTracker.
import { ConnectionTracker, type CloseReason, type Closer, type Tracked } from '@ambient-ts/proxy-core';

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

export type TrackedConnection = Tracked<ConnectionInfo>;

export class ConnectionManager extends ConnectionTracker<ConnectionInfo> {
  /**
   * Re-evaluate inbound connections after a policy or workload change; those the check now denies are
   * closed with a `policy` reason carrying its message. Returns what was closed.
   */
  recheck(
    check: (connection: TrackedConnection) => { allowed: boolean; reason: string },
  ): { connection: TrackedConnection; reason: CloseReason }[] {
    return this.closeWhere((connection) => {
      if (connection.direction !== 'inbound' || !connection.policy) return undefined;
      const verdict = check(connection);
      return verdict.allowed ? undefined : { kind: 'policy', message: verdict.reason };
    });
  }

  /**
   * A tracker for one part of the proxy (an in-pod proxy): what registers with it is tracked here too, so
   * policy re-checks, drain and /config_dump keep seeing every connection, while the part can drain its own.
   */
  scoped(): ConnectionManager {
    return new ScopedConnections(this);
  }
}

class ScopedConnections extends ConnectionManager {
  readonly #parent: ConnectionManager;

  constructor(parent: ConnectionManager) {
    super();
    this.#parent = parent;
  }

  override register(info: ConnectionInfo, close: Closer): () => void {
    let closed = false;
    const once: Closer = (reason) => {
      if (closed) return;
      closed = true;
      close(reason);
    };
    const own = super.register(info, once);
    const parent = this.#parent.register(info, once);
    return () => {
      own();
      parent();
    };
  }
}
