// The ZDS client of shared (in-pod) mode, facts §9.1: ztunnel connects to the CNI node agent's SOCK_SEQPACKET
// socket (INPOD_UDS), says ZdsHello{V1}, receives the snapshot (Add/Keep/Del … SnapshotSent) and then Add/Del,
// and answers every request with exactly one WorkloadResponse{ack} (empty error = ACK). Pods go to an injected
// PodRegistry (the per-pod proxies); this file is only the protocol and its state machine:
//
//   connecting ──connected, hello sent──▶ hello-sent ──Add/Keep/Del──▶ receiving-snapshot ──SnapshotSent──▶ synced
//       ▲   │                                 │  └────────────SnapshotSent (empty snapshot)──────────────────▲
//       │   └─connect failed─▶ backoff ◀──────┴── protocol error (NACK first) / agent hung up / send failed ─┘
//       └──────── timer (10 ms doubling to 15 s) ───┘           any state ──close()──▶ closed
//
// Requests are handled one at a time in arrival order (an Add waits for its proxy), so responses stay in order.
// A bad packet (truncated, oversized, undecodable, wrong fds, not a namespace, no workload_info) or a request out
// of sequence (Keep or a second SnapshotSent after the snapshot) is NACKed with a message naming the pod and what
// was wrong, then the connection is dropped and re-made: the agent re-sends its snapshot. A proxy that fails to
// start is NACKed but the connection stays; the pod is retried every 5 s until it starts or is deleted.
// Fds: the netns fd of an Add is handed to registry.add; when add rejects the client keeps it for the retries
// and closes it when the pod is deleted, left out of a snapshot, replaced by a newer Add, or the client closes.
// Every other received fd is closed here.
import { ackPacket, helloPacket, parseRequest, ZdsError, type ZdsPacket, type ZdsRequest } from './protocol.ts';
import { closeFd, errorText, PendingPods } from './pending-pods.ts';
import type { ZdsConnection } from './transport.ts';
import type { ZdsClientOptions, ZdsClientState, ZdsLogger, ZdsStatus } from './zds-types.ts';

export type {
  PendingPod,
  PodRegistry,
  ReadinessTasks,
  ZdsClientOptions,
  ZdsClientState,
  ZdsLogger,
  ZdsStatus,
} from './zds-types.ts';
export { pendingPodTask } from './pending-pods.ts';

/** Readiness task until the first snapshot (one more per pending pod: pendingPodTask). */
export const SNAPSHOT_TASK = 'zds snapshot';

type Phase = 'hello-sent' | 'receiving-snapshot' | 'synced';

interface Session {
  readonly connection: ZdsConnection;
  /** uids of the snapshot's Add and Keep, minus its Del */
  readonly snapshot: Set<string>;
  phase: Phase;
  done: boolean;
  error?: string;
}

const silent: ZdsLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class ZdsClient {
  readonly #options: ZdsClientOptions;
  readonly #log: ZdsLogger;
  readonly #initialMs: number;
  readonly #maxMs: number;
  #state: ZdsClientState = { state: 'connecting', attempt: 0 };
  #session: Session | undefined;
  #failures = 0;
  #reconnect: NodeJS.Timeout | undefined;
  readonly #pending: PendingPods;
  #snapshotReceived = false;
  #queue: Promise<void> = Promise.resolve();
  #started = false;
  #closed = false;

  constructor(options: ZdsClientOptions) {
    this.#options = options;
    this.#log = options.log ?? silent;
    this.#pending = new PendingPods({
      registry: options.registry,
      log: this.#log,
      retryMs: options.retryIntervalMs ?? 5000,
      ...(options.readiness ? { readiness: options.readiness } : {}),
      run: (task) => void this.#enqueue(task),
    });
    this.#initialMs = options.backoff?.initialMs ?? 10;
    this.#maxMs = options.backoff?.maxMs ?? 15_000;
  }

  /** Connect (and keep reconnecting) until close(). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#options.readiness?.register(SNAPSHOT_TASK);
    this.#connect();
  }

  get state(): ZdsClientState {
    return this.#state;
  }

  status(): ZdsStatus {
    const pending = this.#pending.list();
    return {
      state: this.#state,
      snapshotReceived: this.#snapshotReceived,
      pending,
      ready: this.#snapshotReceived && pending.length === 0,
    };
  }

  /** Hang up, stop retrying, and close the fds of pending pods (after a request in progress finishes). */
  async close(): Promise<void> {
    if (this.#closed) return this.#queue;
    this.#closed = true;
    clearTimeout(this.#reconnect);
    this.#pending.stop();
    if (this.#session) this.#end(this.#session);
    this.#setState({ state: 'closed' });
    return this.#enqueue(async () => {
      this.#pending.forgetAll();
    });
  }

  // --- connection lifecycle

  #setState(state: ZdsClientState): void {
    this.#state = state;
    this.#options.onStateChange?.(state);
  }

  #setPhase(session: Session, phase: Phase): void {
    if (session.phase === phase) return;
    session.phase = phase;
    this.#setState({ state: phase });
  }

  #connect(): void {
    this.#reconnect = undefined;
    if (this.#closed) return;
    const { path, transport } = this.#options;
    this.#setState({ state: 'connecting', attempt: this.#failures + 1 });
    let connection: ZdsConnection;
    try {
      connection = transport.connect(path);
    } catch (error) {
      this.#backoff(`cannot connect to the node agent at ${path}: ${errorText(error)}`);
      return;
    }
    const session: Session = { connection, snapshot: new Set(), phase: 'hello-sent', done: false };
    this.#session = session;
    connection.on('message', (packet) => void this.#enqueue(() => this.#receive(session, packet)));
    connection.on('error', (error) => (session.error = errorText(error)));
    connection.on('close', () => this.#drop(session, session.error ?? 'the node agent closed the ZDS connection'));
    try {
      connection.send(helloPacket());
    } catch (error) {
      this.#drop(session, `cannot send ZdsHello: ${errorText(error)}`);
      return;
    }
    this.#log.info({ path }, 'connected to the node agent, ZdsHello sent');
    this.#setState({ state: 'hello-sent' });
  }

  /** Detach and close a connection without reconnecting. */
  #end(session: Session): void {
    if (session.done) return;
    session.done = true;
    if (this.#session === session) this.#session = undefined;
    session.connection.close();
  }

  /** The connection is over (hung up, failed, or dropped for a protocol error): reconnect after a backoff. */
  #drop(session: Session, reason: string): void {
    if (session.done) return;
    this.#end(session);
    this.#backoff(reason);
  }

  #backoff(reason: string): void {
    if (this.#closed) return;
    this.#failures += 1;
    const delayMs = Math.min(this.#maxMs, this.#initialMs * 2 ** (this.#failures - 1));
    this.#log.warn({ reason, delayMs }, 'ZDS connection lost, reconnecting');
    this.#setState({ state: 'backoff', attempt: this.#failures, delayMs, lastError: reason });
    this.#reconnect = setTimeout(() => this.#connect(), delayMs);
  }

  /** Run tasks one at a time, in order; a task never breaks the chain. */
  #enqueue(task: () => Promise<void> | void): Promise<void> {
    this.#queue = this.#queue.then(task).catch((error: unknown) => {
      this.#log.error({ error: errorText(error) }, 'ZDS client task failed');
    });
    return this.#queue;
  }

  // --- requests

  async #receive(session: Session, packet: ZdsPacket): Promise<void> {
    if (session.done) {
      for (const fd of packet.fds) closeFd(fd);
      return;
    }
    let request: ZdsRequest;
    try {
      request = parseRequest(packet, this.#options.transport.namespaceId);
    } catch (error) {
      for (const fd of packet.fds) closeFd(fd);
      this.#protocolError(session, error);
      return;
    }
    let nack: string | undefined;
    try {
      nack = await this.#apply(session, request);
    } catch (error) {
      this.#protocolError(session, error);
      return;
    }
    this.#respond(session, nack);
  }

  /** NACK naming what was wrong, then drop the connection (the agent re-sends its snapshot on the next one). */
  #protocolError(session: Session, error: unknown): void {
    const message = errorText(error);
    const code = ZdsError.isZdsError(error) ? error.code : 'ZDS_MALFORMED';
    this.#log.warn({ code, error: message }, 'ZDS protocol error, NACK and reconnect');
    this.#respond(session, message);
    this.#drop(session, `${code}: ${message}`);
  }

  #respond(session: Session, error: string | undefined): void {
    if (session.done) return;
    try {
      session.connection.send(ackPacket(error));
    } catch (sendError) {
      this.#drop(session, `cannot answer the node agent: ${errorText(sendError)}`);
    }
  }

  /** Apply one checked request; resolves to a NACK text (connection kept) or undefined (ACK). */
  async #apply(session: Session, request: ZdsRequest): Promise<string | undefined> {
    const inSnapshot = session.phase !== 'synced';
    switch (request.kind) {
      case 'add':
        if (inSnapshot) {
          session.snapshot.add(request.uid);
          this.#setPhase(session, 'receiving-snapshot');
        }
        return this.#pending.start(request.uid, request.info, request.netnsFd, request.netnsId);
      case 'keep':
        if (!inSnapshot) {
          throw new ZdsError(
            'ZDS_OUT_OF_SEQUENCE',
            `pod ${request.uid}: KeepWorkload after SnapshotSent (Keep is only valid during the snapshot)`,
            { uid: request.uid },
          );
        }
        session.snapshot.add(request.uid);
        this.#setPhase(session, 'receiving-snapshot');
        return undefined;
      case 'del':
        if (inSnapshot) {
          // Before SnapshotSent a Del only takes the pod out of the snapshot; reconcile drains it.
          session.snapshot.delete(request.uid);
          this.#setPhase(session, 'receiving-snapshot');
          return undefined;
        }
        this.#pending.forget(request.uid);
        try {
          await this.#options.registry.del(request.uid);
        } catch (error) {
          return `pod ${request.uid}: removing its proxy failed: ${errorText(error)}`;
        }
        this.#log.info({ uid: request.uid }, 'pod deleted');
        return undefined;
      case 'snapshot-sent':
        if (!inSnapshot) {
          throw new ZdsError(
            'ZDS_OUT_OF_SEQUENCE',
            'SnapshotSent after the snapshot was already complete (a second SnapshotSent on one connection)',
          );
        }
        return this.#completeSnapshot(session);
    }
  }

  async #completeSnapshot(session: Session): Promise<string | undefined> {
    const kept = new Set(session.snapshot);
    this.#pending.forgetAll((uid) => !kept.has(uid));
    let nack: string | undefined;
    try {
      await this.#options.registry.reconcile(kept);
    } catch (error) {
      nack = `reconciling pods after the snapshot failed: ${errorText(error)}`;
    }
    if (!session.done) {
      this.#failures = 0;
      this.#snapshotReceived = true;
      this.#options.readiness?.complete(SNAPSHOT_TASK);
      this.#log.info({ pods: kept.size, pending: this.#pending.size }, 'ZDS snapshot received');
      this.#setPhase(session, 'synced');
    }
    return nack;
  }
}
