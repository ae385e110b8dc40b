// Remote JWKS for RequestAuthentication `jwksUri` (and OIDC discovery when neither jwks nor jwksUri is
// set): fetched with a timeout, cached (Envoy's remote JWKS cache is 5 minutes), refreshed early when a
// token names a `kid` the cached set lacks (at most once per cooldown), stale keys kept when a refresh fails.
import { PolicyError } from '../errors.ts';

export interface JsonWebKeySet {
  readonly keys: readonly Record<string, unknown>[];
}

/** The subset of `fetch` this cache uses, so tests and apps can inject their own. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface JwksCacheOptions {
  readonly fetch?: FetchLike;
  /** Clock in milliseconds (inject a fake one in tests). */
  readonly now?: () => number;
  /** How long a fetched JWKS is used before refetching; default 300 000 (5 min). */
  readonly cacheDurationMs?: number;
  /** Minimum time between refetches caused by unknown `kid`s; default 30 000. */
  readonly unknownKidCooldownMs?: number;
  /** After a failed fetch, how long before trying again; default 1 000. */
  readonly failureBackoffMs?: number;
}

type Entry =
  | { readonly state: 'fetching'; readonly promise: Promise<JsonWebKeySet>; readonly previous?: Ready }
  | Ready
  | { readonly state: 'failed'; readonly error: string; readonly failedAt: number; readonly previous?: Ready };

interface Ready {
  readonly state: 'ready';
  readonly keys: JsonWebKeySet;
  readonly fetchedAt: number;
}

function isKeySet(value: unknown): value is JsonWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

export class JwksCache {
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #cacheDurationMs: number;
  readonly #cooldownMs: number;
  readonly #failureBackoffMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #lastKidRefresh = new Map<string, number>();
  readonly #discovered = new Map<string, string>();

  constructor(options: JwksCacheOptions = {}) {
    this.#fetch = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.#now = options.now ?? Date.now;
    this.#cacheDurationMs = options.cacheDurationMs ?? 300_000;
    this.#cooldownMs = options.unknownKidCooldownMs ?? 30_000;
    this.#failureBackoffMs = options.failureBackoffMs ?? 1_000;
  }

  async #fetchJson(url: string, timeoutMs: number): Promise<unknown> {
    const signal = AbortSignal.timeout(timeoutMs);
    let response;
    try {
      response = await this.#fetch(url, { signal, headers: { accept: 'application/json' } });
    } catch (error) {
      const why = signal.aborted ? `timed out after ${timeoutMs} ms` : (error as Error).message;
      throw new PolicyError('JWKS_FETCH_FAILED', `fetching ${url} failed: ${why}`, { cause: error });
    }
    if (!response.ok) throw new PolicyError('JWKS_FETCH_FAILED', `fetching ${url} failed: HTTP ${response.status}`);
    try {
      return await response.json();
    } catch (error) {
      throw new PolicyError('JWKS_FETCH_FAILED', `fetching ${url} failed: the body is not JSON`, { cause: error });
    }
  }

  #start(uri: string, timeoutMs: number, previous: Ready | undefined): Promise<JsonWebKeySet> {
    const promise = this.#fetchJson(uri, timeoutMs).then(
      (body) => {
        if (!isKeySet(body))
          throw new PolicyError('JWKS_FETCH_FAILED', `${uri} did not return a JWKS ({"keys": [...]})`);
        this.#entries.set(uri, { state: 'ready', keys: body, fetchedAt: this.#now() });
        return body;
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.#entries.set(uri, {
          state: 'failed',
          error: message,
          failedAt: this.#now(),
          ...(previous && { previous }),
        });
        if (previous) return previous.keys;
        throw error;
      },
    );
    this.#entries.set(uri, { state: 'fetching', promise, ...(previous && { previous }) });
    return promise;
  }

  /** The key set for `uri`, from cache when fresh. Throws `JWKS_FETCH_FAILED` when there is nothing usable. */
  async get(uri: string, timeoutMs = 5000): Promise<JsonWebKeySet> {
    const entry = this.#entries.get(uri);
    const now = this.#now();
    if (!entry) return this.#start(uri, timeoutMs, undefined);
    switch (entry.state) {
      case 'fetching':
        return entry.promise;
      case 'ready':
        if (now - entry.fetchedAt < this.#cacheDurationMs) return entry.keys;
        return this.#start(uri, timeoutMs, entry);
      case 'failed':
        if (now - entry.failedAt < this.#failureBackoffMs) {
          if (entry.previous) return entry.previous.keys;
          throw new PolicyError('JWKS_FETCH_FAILED', entry.error);
        }
        return this.#start(uri, timeoutMs, entry.previous);
    }
  }

  /**
   * A token named a key the cached set lacks: refetch now unless one was done within the cooldown.
   * Returns the new set, or undefined when the cooldown forbids a refetch.
   */
  async refreshForUnknownKid(uri: string, timeoutMs = 5000): Promise<JsonWebKeySet | undefined> {
    const now = this.#now();
    const last = this.#lastKidRefresh.get(uri);
    if (last !== undefined && now - last < this.#cooldownMs) return undefined;
    this.#lastKidRefresh.set(uri, now);
    const entry = this.#entries.get(uri);
    if (entry?.state === 'fetching') return entry.promise;
    const previous = entry?.state === 'ready' ? entry : entry?.previous;
    return this.#start(uri, timeoutMs, previous);
  }

  /** OIDC discovery: `<issuer>/.well-known/openid-configuration` → `jwks_uri` (cached for good). */
  async discover(issuer: string, timeoutMs = 5000): Promise<string> {
    const known = this.#discovered.get(issuer);
    if (known) return known;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const body = await this.#fetchJson(url, timeoutMs);
    const jwksUri = typeof body === 'object' && body !== null ? (body as { jwks_uri?: unknown }).jwks_uri : undefined;
    if (typeof jwksUri !== 'string' || jwksUri === '') {
      throw new PolicyError('JWKS_FETCH_FAILED', `${url} has no jwks_uri`);
    }
    this.#discovered.set(issuer, jwksUri);
    return jwksUri;
  }

  /** Forget everything (e.g. after configuration changes). */
  clear(): void {
    this.#entries.clear();
    this.#lastKidRefresh.clear();
    this.#discovered.clear();
  }
}
