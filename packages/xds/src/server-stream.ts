// One delta ADS stream on the server: subscriptions per type, what the client holds, nonces and
// ACK/NACK bookkeeping. Pure state + a `send` callback, so the gRPC wiring stays in server.ts.
import type { ResourceCache } from './cache.ts';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, XdsNode, XdsResource } from '@ambient-ts/istio-api';

export interface TypeState {
  wildcard: boolean;
  readonly names: Set<string>;
  /** name -> version the client holds (as we sent it, or as it told us on reconnect) */
  readonly known: Map<string, string>;
  lastSentNonce?: string;
  lastAckedNonce?: string;
  lastNack?: { readonly nonce: string; readonly message: string };
  acks: number;
  nacks: number;
}

/** What a caller can see of a stream (ACK/NACK tracking included). */
export interface XdsStreamInfo<Caller = unknown> {
  readonly id: number;
  readonly peer: string;
  readonly caller: Caller;
  readonly node?: XdsNode;
  readonly types: ReadonlyMap<string, Readonly<TypeState>>;
}

export type StreamEvent =
  | { readonly kind: 'ack'; readonly typeUrl: string; readonly nonce: string }
  | { readonly kind: 'nack'; readonly typeUrl: string; readonly nonce: string; readonly message: string };

export class ServerStream<Caller = unknown> implements XdsStreamInfo<Caller> {
  readonly id: number;
  readonly peer: string;
  readonly caller: Caller;
  node?: XdsNode;
  readonly types = new Map<string, TypeState>();
  readonly #cache: ResourceCache;
  readonly #send: (response: DeltaDiscoveryResponse) => void;
  readonly #nonce: () => string;

  constructor(init: {
    id: number;
    peer: string;
    caller: Caller;
    cache: ResourceCache;
    send: (response: DeltaDiscoveryResponse) => void;
    nonce: () => string;
  }) {
    this.id = init.id;
    this.peer = init.peer;
    this.caller = init.caller;
    this.#cache = init.cache;
    this.#send = init.send;
    this.#nonce = init.nonce;
  }

  /** Handle one request; returns the ACK/NACK it carried, if any. */
  onRequest(request: DeltaDiscoveryRequest): StreamEvent | undefined {
    if (request.node && !this.node) this.node = request.node;
    const typeUrl = request.typeUrl;
    let state = this.types.get(typeUrl);
    const first = state === undefined;
    if (!state) {
      state = { wildcard: false, names: new Set(), known: new Map(), acks: 0, nacks: 0 };
      this.types.set(typeUrl, state);
      // an initial request with no names is a (legacy) wildcard subscription
      if (request.resourceNamesSubscribe.length === 0) state.wildcard = true;
      for (const [name, version] of Object.entries(request.initialResourceVersions)) state.known.set(name, version);
    }
    const added: string[] = [];
    for (const name of request.resourceNamesSubscribe) {
      if (name === '*') state.wildcard = true;
      else if (!state.names.has(name)) {
        state.names.add(name);
        added.push(name);
      }
    }
    for (const name of request.resourceNamesUnsubscribe) {
      if (name === '*') state.wildcard = false;
      else {
        state.names.delete(name);
        for (const primary of [name, ...this.#cache.namesForAlias(typeUrl, name)]) {
          if (!this.#matches(typeUrl, state, primary)) state.known.delete(primary);
        }
      }
    }
    let event: StreamEvent | undefined;
    if (request.responseNonce) {
      if (request.errorDetail) {
        state.nacks++;
        state.lastNack = { nonce: request.responseNonce, message: request.errorDetail.message };
        event = { kind: 'nack', typeUrl, nonce: request.responseNonce, message: request.errorDetail.message };
      } else {
        state.acks++;
        state.lastAckedNonce = request.responseNonce;
        event = { kind: 'ack', typeUrl, nonce: request.responseNonce };
      }
    }
    if (first || added.length > 0 || request.resourceNamesSubscribe.includes('*')) {
      this.#push(
        typeUrl,
        state,
        this.#candidates(typeUrl, state, first || request.resourceNamesSubscribe.includes('*'), added),
        added,
        first,
      );
    }
    return event;
  }

  /** The cache changed these names of `typeUrl`: send what this client should now hold. */
  onCacheChange(typeUrl: string, names: ReadonlySet<string>): void {
    const state = this.types.get(typeUrl);
    if (state) this.#push(typeUrl, state, names, [], false);
  }

  #matches(typeUrl: string, state: TypeState, name: string): boolean {
    if (state.wildcard || state.names.has(name)) return true;
    const resource = this.#cache.get(typeUrl, name);
    return (resource?.aliases ?? []).some((alias) => state.names.has(alias));
  }

  #candidates(typeUrl: string, state: TypeState, everything: boolean, added: readonly string[]): Set<string> {
    const names = new Set<string>(state.known.keys());
    if (everything && state.wildcard) for (const resource of this.#cache.all(typeUrl)) names.add(resource.name);
    for (const name of added) {
      names.add(name);
      for (const primary of this.#cache.namesForAlias(typeUrl, name)) names.add(primary);
    }
    return names;
  }

  #push(
    typeUrl: string,
    state: TypeState,
    names: Iterable<string>,
    requested: readonly string[],
    always: boolean,
  ): void {
    const resources: XdsResource[] = [];
    const removed: string[] = [];
    for (const name of names) {
      const resource = this.#cache.get(typeUrl, name);
      if (resource && this.#matches(typeUrl, state, name)) {
        if (state.known.get(name) !== resource.version) {
          resources.push(resource);
          state.known.set(name, resource.version);
        }
      } else if (state.known.has(name)) {
        state.known.delete(name);
        removed.push(name);
      }
    }
    // explicitly requested names we cannot serve are answered as removed, so on-demand waits end
    for (const name of requested) {
      const served = this.#cache.get(typeUrl, name) || this.#cache.namesForAlias(typeUrl, name).size > 0;
      if (!served && !removed.includes(name)) removed.push(name);
    }
    if (resources.length === 0 && removed.length === 0 && !always) return;
    const nonce = this.#nonce();
    state.lastSentNonce = nonce;
    this.#send({
      systemVersionInfo: String(this.#cache.version),
      typeUrl,
      nonce,
      resources,
      removedResources: removed,
    });
  }
}
