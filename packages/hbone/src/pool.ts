// The client connection pool, keyed as ztunnel keys it (facts §1.7): {source identity, expected
// destination identities, dialled address, source IP}. One dial per key at a time; a connection takes
// at most min(100, peer's SETTINGS_MAX_CONCURRENT_STREAMS) streams; connections not picked for 5 min
// are released; GOAWAY'd or broken connections are never handed out again.
// Each pooled connection's lifecycle is an explicit state (`PooledState`); the transitions are drawn in
// docs/lifecycle-hbone.md. The pool owns its caches (per-credential TLS state), none is module-level.
import { constants as h2 } from 'node:http2';
import type { HboneConnection, HboneTunnel } from './client-connection.ts';
import { dialHbone } from './dial.ts';
import { HboneError } from './errors.ts';
import { checkInteger, checkKeepalive, checkTuning, HBONE_DEFAULTS } from './settings.ts';
import type { Http2Tuning, KeepaliveOptions } from './settings.ts';
import type { SocketFactory } from './socket-factory.ts';
import { CredentialCache, CredentialInfo, type TlsCredentials } from './tls-config.ts';

export interface HbonePoolOptions {
  /** Default 100 (ztunnel's POOL_MAX_STREAMS_PER_CONNECTION). */
  maxStreamsPerConnection?: number;
  /** Release connections not picked for this long. Default 5 min (POOL_UNUSED_RELEASE_TIMEOUT). */
  idleReleaseMs?: number;
  /** Whole-dial timeout. Default 10 s. */
  connectTimeoutMs?: number;
  tls12?: boolean;
  http2?: Http2Tuning;
  keepalive?: KeepaliveOptions;
  /** Creates every TCP socket this pool dials (e.g. inside a pod's network namespace); default node:net's. */
  socketFactory?: SocketFactory;
}

export interface PoolConnectOptions {
  /** TCP dial target, e.g. podIP:15008. */
  address: { host: string; port: number };
  /** CONNECT `:authority`: the original destination. */
  authority: string;
  headers?: Readonly<Record<string, string>>;
  /** The certificate to present: it must carry `sourceIdentity`. */
  credentials: TlsCredentials;
  sourceIdentity: string;
  /** The server leaf must carry one of these exactly (workload identity + service SANs). */
  expectedIdentities: readonly string[];
  sourceIp?: string;
  signal?: AbortSignal;
}

export interface HbonePoolStats {
  keys: number;
  connections: number;
  activeStreams: number;
  dials: number;
}

/** `open`: hands out tunnels; `draining`: drain() running; `closed`: drain() finished or close() called. */
export type HbonePoolState = 'open' | 'draining' | 'closed';

/** The pool key: exactly ztunnel's WorkloadKey fields (expected identities in the order given). */
export function poolKey(
  options: Pick<PoolConnectOptions, 'sourceIdentity' | 'expectedIdentities' | 'address' | 'sourceIp'>,
): string {
  // SPIFFE IDs and addresses contain no whitespace, so spaces and newlines keep the fields apart.
  const { host, port } = options.address;
  return `${options.sourceIdentity}\n${options.expectedIdentities.join(' ')}\n${host}\n${port}\n${options.sourceIp ?? ''}`;
}

/** Why a pooled connection stopped taking new streams. */
type DrainCause =
  /** not picked for idleReleaseMs: the pool GOAWAYs it once its last stream ends */
  | 'released'
  /** the connection itself became unusable: GOAWAY received, error, keepalive timeout */
  | 'unusable'
  /** the pool is draining or closing */
  | 'pool';

/**
 * One pooled connection:
 *   connecting ──dial ok──▶ ready ──released / unusable / pool drain──▶ draining ──'close'──▶ closed
 *        └──dial failed, pool closed meanwhile──▶ closed        ready ──'close'──▶ closed
 * Only `ready` connections are in their key's list (and picked); `ready` and `draining` ones are counted.
 */
type PooledState =
  | { readonly name: 'connecting' }
  | { readonly name: 'ready'; readonly connection: HboneConnection; readonly maxStreams: number; lastPicked: number }
  | { readonly name: 'draining'; readonly connection: HboneConnection; readonly cause: DrainCause }
  | { readonly name: 'closed' };

interface Pooled {
  state: PooledState;
}

/** One key: its dial in progress (the one `connecting` slot; callers wait for it) and its `ready` slots. */
interface Entry {
  dialing: Promise<void> | undefined;
  ready: Pooled[];
}

/** RFC 9113 §8.7: a refused stream, or one cut off by GOAWAY, was not processed and may be retried. */
function unprocessed(error: unknown): boolean {
  const { code, h2Code } = error as HboneError;
  return code === 'CONNECTION_CLOSED' || (code === 'TUNNEL_RESET' && h2Code === h2.NGHTTP2_REFUSED_STREAM);
}

function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = (): void =>
      reject(new HboneError('ABORTED', 'connect was aborted while waiting for the dial', { cause: signal.reason }));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class HbonePool {
  readonly #options: HbonePoolOptions;
  readonly #maxStreams: number;
  readonly #idleReleaseMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Every pooled connection that has one (`ready` or `draining`). */
  readonly #live = new Set<Pooled>();
  /** Per-credential TLS state (own identity, secure contexts), one cache per TLS version policy. */
  readonly #credentials = new Map<boolean, CredentialCache>();
  #sweeper: NodeJS.Timeout | undefined;
  #state: HbonePoolState = 'open';
  #dials = 0;

  constructor(options: HbonePoolOptions = {}) {
    checkInteger(options.maxStreamsPerConnection, 'maxStreamsPerConnection', 1, 2 ** 31 - 1);
    checkInteger(options.idleReleaseMs, 'idleReleaseMs', 1, 2 ** 31 - 1);
    checkInteger(options.connectTimeoutMs, 'connectTimeoutMs', 1, 2 ** 31 - 1);
    checkTuning(options.http2, 'http2');
    checkKeepalive(options.keepalive, 'keepalive');
    this.#options = options;
    this.#maxStreams = options.maxStreamsPerConnection ?? HBONE_DEFAULTS.poolMaxStreamsPerConnection;
    this.#idleReleaseMs = options.idleReleaseMs ?? HBONE_DEFAULTS.poolIdleReleaseMs;
  }

  get state(): HbonePoolState {
    return this.#state;
  }

  /** Open one tunnel, reusing a pooled connection for the same key when one has room. */
  connect(options: PoolConnectOptions): Promise<HboneTunnel> {
    if (!Array.isArray(options?.expectedIdentities) || options.expectedIdentities.length === 0) {
      return Promise.reject(
        new HboneError('INVALID_OPTIONS', 'connect: expectedIdentities must list at least one SPIFFE ID'),
      );
    }
    if (typeof options.authority !== 'string' || options.authority === '') {
      return Promise.reject(
        new HboneError('INVALID_OPTIONS', 'connect: authority must be a non-empty "host:port" string'),
      );
    }
    const key = poolKey(options);
    // Fast path (the common case under load): a pooled connection with room, no extra async hop.
    const connection = this.#state === 'open' ? this.#pick(key) : undefined;
    if (connection) {
      return connection
        .openTunnel(options)
        .catch((error: unknown) =>
          unprocessed(error) ? this.#connectSlow(options, key, true) : Promise.reject(error),
        );
    }
    return this.#connectSlow(options, key, false);
  }

  /**
   * @internal The pool's per-credential TLS state (also for the unpooled inner hop of double HBONE).
   * Rotation hands out new credentials, so old entries age out of the cache.
   */
  credentialInfo(credentials: TlsCredentials, tls12: boolean): CredentialInfo {
    let cache = this.#credentials.get(tls12);
    if (!cache) {
      cache = new CredentialCache((fresh) => new CredentialInfo(fresh, tls12));
      this.#credentials.set(tls12, cache);
    }
    return cache.get(credentials);
  }

  #pick(key: string): HboneConnection | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    for (const candidate of entry.ready) {
      const state = candidate.state;
      if (
        state.name === 'ready' &&
        state.connection.state === 'open' &&
        state.connection.activeStreams < state.maxStreams
      ) {
        state.lastPicked = Date.now();
        return state.connection;
      }
    }
    return undefined;
  }

  async #connectSlow(options: PoolConnectOptions, key: string, retried: boolean): Promise<HboneTunnel> {
    for (;;) {
      if (this.#state !== 'open') throw new HboneError('POOL_CLOSED', 'the HBONE pool is closed or draining');
      const connection = this.#pick(key);
      if (connection) {
        try {
          return await connection.openTunnel(options);
        } catch (error) {
          // A GOAWAY raced with our pick (the stream was never processed): one more try elsewhere.
          if (!unprocessed(error) || retried) throw error;
          retried = true;
          continue;
        }
      }
      let entry = this.#entries.get(key);
      if (!entry) {
        entry = { dialing: undefined, ready: [] };
        this.#entries.set(key, entry);
      }
      // One dial per key: everyone else waits for it (each with their own abort signal).
      const current = entry;
      current.dialing ??= this.#dial(key, current, options).finally(() => {
        current.dialing = undefined;
        this.#dropIfEmpty(key, current);
      });
      await untilAborted(current.dialing, options.signal);
    }
  }

  /** A new slot: `connecting` until the dial ends `ready`, or `closed` when it fails. */
  async #dial(key: string, entry: Entry, options: PoolConnectOptions): Promise<void> {
    const pooled: Pooled = { state: { name: 'connecting' } };
    try {
      await this.#open(pooled, key, entry, options);
    } catch (error) {
      pooled.state = { name: 'closed' };
      throw error;
    }
  }

  async #open(pooled: Pooled, key: string, entry: Entry, options: PoolConnectOptions): Promise<void> {
    const tls12 = this.#options.tls12 ?? false;
    const info = this.credentialInfo(options.credentials, tls12);
    const own = info.identity.toString();
    if (own !== options.sourceIdentity) {
      throw new HboneError(
        'INVALID_OPTIONS',
        `connect: sourceIdentity is ${options.sourceIdentity} but the credentials carry ${own}`,
      );
    }
    this.#dials++;
    const connection = await dialHbone(
      {
        address: options.address,
        credentials: options.credentials,
        expect: { kind: 'identities', identities: options.expectedIdentities },
        ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
        ...(this.#options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.#options.connectTimeoutMs }),
        tls12,
        ...(this.#options.http2 === undefined ? {} : { http2: this.#options.http2 }),
        ...(this.#options.keepalive === undefined ? {} : { keepalive: this.#options.keepalive }),
        ...(this.#options.socketFactory === undefined ? {} : { socketFactory: this.#options.socketFactory }),
      },
      info,
    );
    if (this.#state !== 'open') {
      connection.destroy();
      throw new HboneError('POOL_CLOSED', 'the HBONE pool closed while dialing');
    }
    pooled.state = {
      name: 'ready',
      connection,
      maxStreams: Math.min(this.#maxStreams, connection.peerMaxStreams),
      lastPicked: Date.now(),
    };
    entry.ready.push(pooled);
    this.#live.add(pooled);
    connection.once('unusable', () => this.#drainSlot(key, pooled, 'unusable'));
    connection.once('close', () => {
      this.#leave(key, pooled);
      this.#live.delete(pooled);
      pooled.state = { name: 'closed' };
    });
    connection.on('streamClosed', () => {
      const state = pooled.state;
      if (state.name === 'draining' && state.cause === 'released' && connection.activeStreams === 0) connection.close();
    });
    this.#startSweeper();
  }

  /** ready → draining: out of its key's list, never picked again. */
  #drainSlot(key: string, pooled: Pooled, cause: DrainCause): void {
    const state = pooled.state;
    if (state.name !== 'ready') return;
    pooled.state = { name: 'draining', connection: state.connection, cause };
    this.#leave(key, pooled);
  }

  #leave(key: string, pooled: Pooled): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    const index = entry.ready.indexOf(pooled);
    if (index !== -1) entry.ready.splice(index, 1);
    this.#dropIfEmpty(key, entry);
  }

  #dropIfEmpty(key: string, entry: Entry): void {
    if (entry.ready.length === 0 && !entry.dialing && this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    const every = Math.max(10, Math.min(30_000, Math.floor(this.#idleReleaseMs / 2)));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      for (const pooled of [...entry.ready]) {
        const state = pooled.state;
        if (state.name !== 'ready' || now - state.lastPicked < this.#idleReleaseMs) continue;
        this.#drainSlot(key, pooled, 'released');
        if (state.connection.activeStreams === 0) state.connection.close();
      }
    }
    if (this.#live.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  stats(): HbonePoolStats {
    let activeStreams = 0;
    for (const pooled of this.#live) activeStreams += connectionOf(pooled)?.activeStreams ?? 0;
    return { keys: this.#entries.size, connections: this.#live.size, activeStreams, dials: this.#dials };
  }

  /** Refuse new tunnels, GOAWAY every connection, and close what is left at the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    if (this.#state === 'open') this.#state = 'draining';
    const live = this.#toDraining();
    const closing = live.map((connection) => closed(connection));
    for (const connection of live) connection.close();
    const deadline = setTimeout(
      () => {
        for (const pooled of this.#live) connectionOf(pooled)?.destroy();
      },
      Math.max(0, deadlineMs),
    );
    deadline.unref();
    await Promise.all(closing);
    clearTimeout(deadline);
    this.#state = 'closed';
    this.#stopSweeper();
  }

  /** Close every connection now; open tunnels are reset. */
  async close(): Promise<void> {
    this.#state = 'closed';
    const live = this.#toDraining();
    const closing = live.map((connection) => closed(connection));
    for (const connection of live) connection.destroy();
    await Promise.all(closing);
    this.#stopSweeper();
  }

  /** Every live connection leaves the pool (ready → draining, cause `pool`); returns them. */
  #toDraining(): HboneConnection[] {
    const connections: HboneConnection[] = [];
    for (const pooled of this.#live) {
      const state = pooled.state;
      if (state.name === 'ready') pooled.state = { name: 'draining', connection: state.connection, cause: 'pool' };
      const connection = connectionOf(pooled);
      if (connection) connections.push(connection);
    }
    return connections;
  }

  #stopSweeper(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#entries.clear();
  }
}

function connectionOf(pooled: Pooled): HboneConnection | undefined {
  const state = pooled.state;
  return state.name === 'ready' || state.name === 'draining' ? state.connection : undefined;
}

function closed(connection: HboneConnection): Promise<void> {
  return new Promise((resolve) => {
    if (connection.state === 'closed') resolve();
    else connection.once('close', () => resolve());
  });
}
