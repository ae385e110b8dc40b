// The client connection pool, keyed as ztunnel keys it (facts §1.7): {source identity, expected
// destination identities, dialled address, source IP}. One dial per key at a time; a connection takes
// at most min(100, peer's SETTINGS_MAX_CONCURRENT_STREAMS) streams; connections not picked for 5 min
// are released; GOAWAY'd or broken connections are never handed out again.
import { constants as h2 } from 'node:http2';
import type { HboneConnection, HboneTunnel } from './client-connection.ts';
import { dialHbone } from './dial.ts';
import { HboneError } from './errors.ts';
import { checkInteger, checkKeepalive, checkTuning, HBONE_DEFAULTS } from './settings.ts';
import type { Http2Tuning, KeepaliveOptions } from './settings.ts';
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

/** The pool key: exactly ztunnel's WorkloadKey fields (expected identities in the order given). */
export function poolKey(
  options: Pick<PoolConnectOptions, 'sourceIdentity' | 'expectedIdentities' | 'address' | 'sourceIp'>,
): string {
  // SPIFFE IDs and addresses contain no whitespace, so spaces and newlines keep the fields apart.
  const { host, port } = options.address;
  return `${options.sourceIdentity}\n${options.expectedIdentities.join(' ')}\n${host}\n${port}\n${options.sourceIp ?? ''}`;
}

interface Pooled {
  connection: HboneConnection;
  maxStreams: number;
  lastPicked: number;
  released: boolean;
}

interface Entry {
  connections: Pooled[];
  dialing: Promise<void> | undefined;
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

const identities = new CredentialCache((credentials) => new CredentialInfo(credentials, false));

export class HbonePool {
  readonly #options: HbonePoolOptions;
  readonly #maxStreams: number;
  readonly #idleReleaseMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #all = new Set<Pooled>();
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;
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
    const pooled = this.#closed ? undefined : this.#pick(key);
    if (pooled) {
      return pooled.connection
        .openTunnel(options)
        .catch((error: unknown) =>
          unprocessed(error) ? this.#connectSlow(options, key, true) : Promise.reject(error),
        );
    }
    return this.#connectSlow(options, key, false);
  }

  #pick(key: string): Pooled | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    for (const candidate of entry.connections) {
      if (candidate.connection.state === 'open' && candidate.connection.activeStreams < candidate.maxStreams) {
        candidate.lastPicked = Date.now();
        return candidate;
      }
    }
    return undefined;
  }

  async #connectSlow(options: PoolConnectOptions, key: string, retried: boolean): Promise<HboneTunnel> {
    for (;;) {
      if (this.#closed) throw new HboneError('POOL_CLOSED', 'the HBONE pool is closed or draining');
      const pooled = this.#pick(key);
      if (pooled) {
        try {
          return await pooled.connection.openTunnel(options);
        } catch (error) {
          // A GOAWAY raced with our pick (the stream was never processed): one more try elsewhere.
          if (!unprocessed(error) || retried) throw error;
          retried = true;
          continue;
        }
      }
      let entry = this.#entries.get(key);
      if (!entry) {
        entry = { connections: [], dialing: undefined };
        this.#entries.set(key, entry);
      }
      // One dial per key: everyone else waits for it (each with their own abort signal).
      const current = entry;
      current.dialing ??= this.#dial(key, current, options).finally(() => {
        current.dialing = undefined;
        if (current.connections.length === 0 && this.#entries.get(key) === current) this.#entries.delete(key);
      });
      await untilAborted(current.dialing, options.signal);
    }
  }

  async #dial(key: string, entry: Entry, options: PoolConnectOptions): Promise<void> {
    const own = identities.get(options.credentials).identity.toString();
    if (own !== options.sourceIdentity) {
      throw new HboneError(
        'INVALID_OPTIONS',
        `connect: sourceIdentity is ${options.sourceIdentity} but the credentials carry ${own}`,
      );
    }
    this.#dials++;
    const connection = await dialHbone({
      address: options.address,
      credentials: options.credentials,
      expect: { kind: 'identities', identities: options.expectedIdentities },
      ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
      ...(this.#options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.#options.connectTimeoutMs }),
      tls12: this.#options.tls12 ?? false,
      ...(this.#options.http2 === undefined ? {} : { http2: this.#options.http2 }),
      ...(this.#options.keepalive === undefined ? {} : { keepalive: this.#options.keepalive }),
    });
    if (this.#closed) {
      connection.destroy();
      throw new HboneError('POOL_CLOSED', 'the HBONE pool closed while dialing');
    }
    const pooled: Pooled = {
      connection,
      maxStreams: Math.min(this.#maxStreams, connection.peerMaxStreams),
      lastPicked: Date.now(),
      released: false,
    };
    entry.connections.push(pooled);
    this.#all.add(pooled);
    connection.once('unusable', () => this.#remove(key, pooled));
    connection.once('close', () => {
      this.#remove(key, pooled);
      this.#all.delete(pooled);
    });
    connection.on('streamClosed', () => {
      if (pooled.released && connection.activeStreams === 0) connection.close();
    });
    this.#startSweeper();
  }

  #remove(key: string, pooled: Pooled): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    const index = entry.connections.indexOf(pooled);
    if (index !== -1) entry.connections.splice(index, 1);
    if (entry.connections.length === 0 && !entry.dialing) this.#entries.delete(key);
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
      for (const pooled of [...entry.connections]) {
        if (now - pooled.lastPicked < this.#idleReleaseMs) continue;
        pooled.released = true;
        this.#remove(key, pooled);
        if (pooled.connection.activeStreams === 0) pooled.connection.close();
      }
    }
    if (this.#all.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  stats(): HbonePoolStats {
    let activeStreams = 0;
    for (const pooled of this.#all) activeStreams += pooled.connection.activeStreams;
    return { keys: this.#entries.size, connections: this.#all.size, activeStreams, dials: this.#dials };
  }

  /** Refuse new tunnels, GOAWAY every connection, and close what is left at the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    this.#closed = true;
    const closing = [...this.#all].map((pooled) => this.#closedPromise(pooled));
    for (const pooled of this.#all) pooled.connection.close();
    const deadline = setTimeout(
      () => {
        for (const pooled of this.#all) pooled.connection.destroy();
      },
      Math.max(0, deadlineMs),
    );
    deadline.unref();
    await Promise.all(closing);
    clearTimeout(deadline);
    this.#stopSweeper();
  }

  /** Close every connection now; open tunnels are reset. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = [...this.#all].map((pooled) => this.#closedPromise(pooled));
    for (const pooled of this.#all) pooled.connection.destroy();
    await Promise.all(closing);
    this.#stopSweeper();
  }

  #closedPromise(pooled: Pooled): Promise<void> {
    return new Promise((resolve) => {
      if (pooled.connection.state === 'closed') resolve();
      else pooled.connection.once('close', () => resolve());
    });
  }

  #stopSweeper(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#entries.clear();
  }
}
