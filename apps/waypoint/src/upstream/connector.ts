// Opening upstream streams: a new HBONE tunnel from the waypoint's own identity to `<endpoint IP>:15008`
// with `:authority = <endpoint IP>:<target port>` (pooled HTTP/2 connections, l7-facts §1.8), or plain
// TCP for endpoints outside the mesh. `UpstreamAgent` puts HTTP/1.1 keep-alive on top: each tunnel
// carries one HTTP/1.1 connection that is reused for later requests to the same endpoint.
import { Agent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HbonePool, TlsCredentials } from '@ambient-ts/hbone';
import { connectTcp } from '@ambient-ts/proxy-core';
import { asHttpConnection } from '../stream-shims.ts';
import { targetAuthority, type UpstreamTarget } from './endpoints.ts';

export interface ConnectorOptions {
  pool: HbonePool;
  credentials: () => Promise<TlsCredentials>;
  sourceIdentity: string;
  hbonePort: number;
  connectTimeoutMs?: number;
}

export class UpstreamConnector {
  readonly #options: ConnectorOptions;

  constructor(options: ConnectorOptions) {
    this.#options = options;
  }

  /** A byte stream to the endpoint's application port. Rejects with the HBONE/TCP error. */
  async open(target: UpstreamTarget, signal?: AbortSignal): Promise<Duplex> {
    if (!target.hbone) return this.#tcp(target);
    const tunnel = await this.#options.pool.connect({
      address: { host: target.ip, port: this.#options.hbonePort },
      authority: targetAuthority(target),
      credentials: await this.#options.credentials(),
      sourceIdentity: this.#options.sourceIdentity,
      expectedIdentities: target.identities,
      ...(signal ? { signal } : {}),
    });
    return tunnel.stream;
  }

  #tcp(target: UpstreamTarget): Promise<Duplex> {
    return connectTcp({ host: target.ip, port: target.port, timeoutMs: this.#options.connectTimeoutMs });
  }
}

/** Request options carrying the endpoint to an UpstreamAgent. */
export interface UpstreamRequestOptions extends ClientRequestArgs {
  upstream: UpstreamTarget;
}

/** node:http Agent whose connections are upstream tunnels (keep-alive pooled per endpoint). */
export class UpstreamAgent extends Agent {
  readonly #connector: UpstreamConnector;

  constructor(connector: UpstreamConnector, options: AgentOptions = {}) {
    super({ keepAlive: true, scheduling: 'lifo', ...options });
    this.#connector = connector;
  }

  override getName(options?: ClientRequestArgs): string {
    const upstream = (options as UpstreamRequestOptions | undefined)?.upstream;
    const kind = upstream ? `${upstream.hbone ? 'hbone' : 'tcp'}|${upstream.identities.join(',')}` : '';
    return `${super.getName(options)}|${kind}`;
  }

  // node:http supports an asynchronous createConnection through its callback.
  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | undefined {
    const upstream = (options as UpstreamRequestOptions).upstream;
    this.#connector.open(upstream).then(
      (stream) => callback?.(null, asHttpConnection(stream)),
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as never),
    );
    return undefined;
  }
}
