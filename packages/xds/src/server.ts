// Delta ADS server (grpc-js): serves any type URL from a ResourceCache to any number of streams,
// with nonces, ACK/NACK tracking, pushes on change and an authentication hook.
import * as grpc from '@grpc/grpc-js';
import { XdsError, errorMessage } from './errors.ts';
import { ResourceCache, type CacheUpdate } from './cache.ts';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from '@ambient-ts/istio-api';
import { deltaAdsDefinition } from './service.ts';
import { ServerStream, type XdsStreamInfo } from './server-stream.ts';

export type XdsServerEvent<Caller = unknown> =
  | { readonly kind: 'connect'; readonly stream: XdsStreamInfo<Caller> }
  | { readonly kind: 'disconnect'; readonly stream: XdsStreamInfo<Caller> }
  | { readonly kind: 'request'; readonly stream: XdsStreamInfo<Caller>; readonly request: DeltaDiscoveryRequest }
  | { readonly kind: 'ack'; readonly stream: XdsStreamInfo<Caller>; readonly typeUrl: string; readonly nonce: string }
  | {
      readonly kind: 'nack';
      readonly stream: XdsStreamInfo<Caller>;
      readonly typeUrl: string;
      readonly nonce: string;
      readonly message: string;
    }
  | { readonly kind: 'rejected'; readonly peer: string; readonly message: string };

export interface XdsServerOptions<Caller = unknown> {
  /** Resolve the caller from the stream's metadata; reject (any error) to end the stream UNAUTHENTICATED. */
  readonly authenticate?: (metadata: grpc.Metadata, context: { peer: string }) => Promise<Caller>;
  /** Serve from an existing cache (default: a new one). */
  readonly cache?: ResourceCache;
}

/** The transport-independent part: register it on any grpc.Server with addDeltaAdsService. */
export class DeltaXdsServer<Caller = unknown> {
  readonly cache: ResourceCache;
  readonly #authenticate: XdsServerOptions<Caller>['authenticate'];
  readonly #streams = new Map<number, ServerStream<Caller>>();
  readonly #calls = new Map<number, grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>>();
  readonly #listeners = new Set<(event: XdsServerEvent<Caller>) => void>();
  #nextId = 0;
  #nextNonce = 0;

  constructor(options: XdsServerOptions<Caller> = {}) {
    this.cache = options.cache ?? new ResourceCache();
    this.#authenticate = options.authenticate;
    this.cache.subscribe((typeUrl, names) => {
      for (const stream of this.#streams.values()) this.#guard(stream.id, () => stream.onCacheChange(typeUrl, names));
    });
  }

  /** Change served resources (atomically across types); subscribed streams get pushes. */
  update(...updates: CacheUpdate[]): void {
    this.cache.update(updates);
  }

  /** Streams currently open, with their subscriptions and ACK/NACK state. */
  streams(): XdsStreamInfo<Caller>[] {
    return [...this.#streams.values()];
  }

  /** Listen to connects, requests, ACKs and NACKs; returns the unsubscribe function. */
  onEvent(listener: (event: XdsServerEvent<Caller>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** End every open stream with UNAVAILABLE (clients reconnect). */
  disconnectAll(details = 'server closing streams'): void {
    for (const call of this.#calls.values()) call.emit('error', { code: grpc.status.UNAVAILABLE, details });
  }

  /** The grpc-js handler for DeltaAggregatedResources. */
  readonly handler = (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void => {
    const peer = call.getPeer();
    const queued: DeltaDiscoveryRequest[] = [];
    let stream: ServerStream<Caller> | undefined;
    let closed = false;
    const id = ++this.#nextId;
    const close = () => {
      if (closed) return;
      closed = true;
      this.#calls.delete(id);
      if (stream && this.#streams.delete(id)) this.#emit({ kind: 'disconnect', stream });
    };
    call.on('data', (request: DeltaDiscoveryRequest) =>
      stream ? this.#onRequest(stream, request) : queued.push(request),
    );
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
    call.on('close', close);
    const authenticate = this.#authenticate ?? (async () => undefined as Caller);
    authenticate(call.metadata, { peer }).then(
      (caller) => {
        if (closed) return;
        stream = new ServerStream<Caller>({
          id,
          peer,
          caller,
          cache: this.cache,
          nonce: () => String(++this.#nextNonce),
          send: (response) => {
            if (!closed) call.write(response);
          },
        });
        this.#streams.set(id, stream);
        this.#calls.set(id, call);
        this.#emit({ kind: 'connect', stream });
        for (const request of queued.splice(0)) this.#onRequest(stream, request);
      },
      (error: unknown) => {
        const message = `unauthenticated: ${errorMessage(error)}`;
        this.#emit({ kind: 'rejected', peer, message });
        call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: message });
      },
    );
  };

  #onRequest(stream: ServerStream<Caller>, request: DeltaDiscoveryRequest): void {
    this.#emit({ kind: 'request', stream, request });
    this.#guard(stream.id, () => {
      const event = stream.onRequest(request);
      if (event) this.#emit({ ...event, stream });
    });
  }

  #guard(id: number, action: () => void): void {
    try {
      action();
    } catch (error) {
      // a bug or an unencodable resource ends only this stream
      this.#calls.get(id)?.emit('error', { code: grpc.status.INTERNAL, details: errorMessage(error) });
    }
  }

  #emit(event: XdsServerEvent<Caller>): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // listeners must not break the stream
      }
    }
  }
}

/** Register the ADS service of `xds` on a caller-provided grpc.Server (e.g. next to the Istio CA). */
export function addDeltaAdsService<Caller>(server: grpc.Server, xds: DeltaXdsServer<Caller>): void {
  server.addService(deltaAdsDefinition as unknown as grpc.ServiceDefinition, {
    DeltaAggregatedResources: xds.handler as grpc.handleBidiStreamingCall<unknown, unknown>,
  });
}

export interface StartXdsServerOptions<Caller = unknown> extends XdsServerOptions<Caller> {
  /** default 127.0.0.1 */
  readonly host?: string;
  /** default 0 (any free port) */
  readonly port?: number;
  /** default insecure (plaintext, like istiod's 15010) */
  readonly credentials?: grpc.ServerCredentials;
}

export interface RunningXdsServer<Caller = unknown> {
  readonly xds: DeltaXdsServer<Caller>;
  readonly port: number;
  /** `http://host:port` or `https://host:port`, ready for the client's address option */
  readonly address: string;
  close(): Promise<void>;
}

/** A standalone server: listen, serve, close(). */
export async function startXdsServer<Caller = unknown>(
  options: StartXdsServerOptions<Caller> = {},
): Promise<RunningXdsServer<Caller>> {
  const xds = new DeltaXdsServer<Caller>(options);
  const server = new grpc.Server();
  addDeltaAdsService(server, xds);
  const host = options.host ?? '127.0.0.1';
  const credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
  const target = host.includes(':') ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, credentials, (error, bound) =>
      error
        ? reject(
            new XdsError('XDS_BIND_FAILED', `cannot listen on ${target}: ${error.message}`, { cause: error }),
          )
        : resolve(bound),
    ),
  );
  const scheme = credentials._isSecure() ? 'https' : 'http';
  return {
    xds,
    port,
    address: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        xds.disconnectAll('server shutting down');
        server.tryShutdown(() => resolve());
        // streams that do not finish are cut after a grace period
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}
