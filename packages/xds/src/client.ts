// Delta ADS client as ztunnel runs it: one bidi stream for all types, wildcard or on-demand
// subscriptions, ACK/NACK per response, reconnect with backoff and initial_resource_versions.
// Never throws out of its methods: failures become state, hooks and NACKs.
import * as grpc from '@grpc/grpc-js';
import { XdsError, errorMessage } from './errors.ts';
import type {
  DemandResult,
  XdsClientCounters,
  XdsClientOptions,
  XdsClientState,
  XdsRejection,
  XdsTerminationReason,
} from './client-types.ts';
import { channelCredentials, channelOptions, parseXdsAddress, streamMetadata } from './connect.ts';
import {
  DELTA_ADS_PATH,
  decodeDeltaResponse,
  encodeDeltaRequest,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from '@ambient-ts/istio-api';

type Call = grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
interface Termination {
  readonly reason: XdsTerminationReason;
  readonly benign: boolean;
  readonly detail: string;
}

const BENIGN_CODES = new Set([grpc.status.UNKNOWN, grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED]);

export class DeltaXdsClient {
  readonly #options: XdsClientOptions;
  readonly #target: ReturnType<typeof parseXdsAddress>;
  readonly #onDemand: ReadonlySet<string>;
  /** typeUrl -> name -> version of every accepted resource (sent as initial_resource_versions) */
  readonly #known = new Map<string, Map<string, string>>();
  readonly #demanded = new Set<string>();
  /** demanded names a response already answered */
  readonly #answered = new Map<string, DemandResult>();
  readonly #waiters = new Map<string, Set<(result: DemandResult) => void>>();
  readonly #synced = new Set<string>();
  readonly #syncWaiters = new Set<() => void>();
  readonly #counters = {
    terminations: { ConnectionError: 0, Error: 0, Reconnect: 0, Complete: 0 } as Record<XdsTerminationReason, number>,
    messages: {} as Record<string, number>,
    messageBytes: {} as Record<string, number>,
  };
  #state: XdsClientState = { state: 'idle' };
  #call: Call | undefined;
  #client: grpc.Client | undefined;
  #wake: (() => void) | undefined;
  #running = false;

  constructor(options: XdsClientOptions) {
    if (!options.node?.id) throw new XdsError('OPTIONS_INVALID', 'xDS client needs node.id (see ztunnelNode)');
    if (Object.keys(options.handlers ?? {}).length === 0)
      throw new XdsError('OPTIONS_INVALID', 'xDS client needs at least one handler');
    this.#target = parseXdsAddress(options.address);
    this.#options = options;
    this.#onDemand = new Set(options.onDemandTypes ?? []);
    for (const typeUrl of Object.keys(options.handlers)) this.#known.set(typeUrl, new Map());
  }

  get state(): XdsClientState {
    return this.#state;
  }

  /** True once the first response of every non-on-demand type was ACKed (ztunnel readiness). */
  get synced(): boolean {
    return this.#wildcardTypes().every((typeUrl) => this.#synced.has(typeUrl));
  }

  /** Resolves when synced (never rejects; stays pending if it never syncs). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.add(resolve));
  }

  /** name -> version of the accepted resources of a type (what a reconnect announces). */
  ackedVersions(typeUrl: string): ReadonlyMap<string, string> {
    return new Map(this.#known.get(typeUrl) ?? []);
  }

  get counters(): XdsClientCounters {
    return structuredClone(this.#counters);
  }

  /** Start connecting (idempotent). */
  start(): void {
    if (this.#running || this.#state.state === 'closed') return;
    this.#running = true;
    void this.#loop();
  }

  /** Stop for good: ends the stream, cancels waits (they resolve 'closed'). */
  close(): void {
    this.#running = false;
    this.#setState({ state: 'closed' });
    this.#teardown();
    this.#wake?.();
    for (const waiters of this.#waiters.values()) for (const resolve of waiters) resolve('closed');
    this.#waiters.clear();
  }

  /**
   * On-demand subscription of an Address name (`network/ip` — note the leading `/` on the default
   * network — a workload uid, or `namespace/hostname`). Resolves when a response mentions it.
   */
  demand(name: string, options: { typeUrl?: string; timeoutMs?: number } = {}): Promise<DemandResult> {
    if (this.#state.state === 'closed') return Promise.resolve('closed');
    const typeUrl = options.typeUrl ?? [...this.#onDemand][0] ?? Object.keys(this.#options.handlers)[0]!;
    const answered = this.#answered.get(name);
    if (answered) return Promise.resolve(answered);
    return new Promise<DemandResult>((resolve) => {
      let waiters = this.#waiters.get(name);
      if (!waiters) this.#waiters.set(name, (waiters = new Set()));
      const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 5000);
      const finish = (result: DemandResult) => {
        clearTimeout(timer);
        waiters!.delete(finish);
        if (waiters!.size === 0) this.#waiters.delete(name);
        resolve(result);
      };
      waiters.add(finish);
      if (!this.#demanded.has(name)) {
        this.#demanded.add(name);
        this.#write({
          typeUrl,
          resourceNamesSubscribe: [name],
          resourceNamesUnsubscribe: [],
          initialResourceVersions: {},
          responseNonce: '',
        });
      }
    });
  }

  #wildcardTypes(): string[] {
    return Object.keys(this.#options.handlers).filter((typeUrl) => !this.#onDemand.has(typeUrl));
  }

  #setState(state: XdsClientState): void {
    if (this.#state.state === 'closed' && state.state !== 'closed') return;
    this.#state = state;
    this.#hook(() => this.#options.hooks?.onStateChange?.(state));
  }

  #hook(action: () => void): void {
    try {
      action();
    } catch {
      // hooks are observers; their failures never reach the stream
    }
  }

  async #loop(): Promise<void> {
    let attempt = 0;
    const initial = this.#options.backoff?.initialMs ?? 10;
    const max = this.#options.backoff?.maxMs ?? 15_000;
    while (this.#running) {
      this.#setState({ state: 'connecting', attempt });
      let gotResponse = false;
      let termination: Termination;
      try {
        termination = await this.#connectOnce(() => (gotResponse = true));
      } catch (error) {
        termination = { reason: 'ConnectionError', benign: false, detail: errorMessage(error) };
      }
      this.#teardown();
      if (!this.#running) break;
      this.#counters.terminations[termination.reason]++;
      this.#hook(() => this.#options.hooks?.onConnectionTermination?.(termination.reason, termination.detail));
      if (gotResponse) attempt = 0;
      const delayMs = termination.benign ? initial : Math.min(max, initial * 2 ** attempt);
      if (!termination.benign) attempt++;
      this.#setState({ state: 'backoff', attempt, delayMs, lastError: termination.detail });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #teardown(): void {
    const call = this.#call;
    const client = this.#client;
    this.#call = undefined;
    this.#client = undefined;
    try {
      call?.cancel();
    } catch {
      // already finished
    }
    client?.close();
  }

  async #connectOnce(onResponse: () => void): Promise<Termination> {
    const credentials = await channelCredentials(this.#options, this.#target.secure);
    const client = new grpc.Client(this.#target.target, credentials, channelOptions(this.#options));
    this.#client = client;
    const ready = await new Promise<Error | undefined>((resolve) =>
      client.waitForReady(Date.now() + (this.#options.connectTimeoutMs ?? 5000), (error) => resolve(error)),
    );
    if (ready) return { reason: 'ConnectionError', benign: false, detail: ready.message };
    if (!this.#running) return { reason: 'Complete', benign: true, detail: 'closed' };
    const metadata = await streamMetadata(this.#options);
    const call = client.makeBidiStreamRequest(DELTA_ADS_PATH, encodeDeltaRequest, decodeDeltaResponse, metadata);
    this.#call = call;
    return new Promise<Termination>((resolve) => {
      let chain = Promise.resolve();
      call.on('data', (response: DeltaDiscoveryResponse) => {
        onResponse();
        chain = chain.then(() => this.#onResponse(call, response));
      });
      call.on('error', () => {
        // the 'status' event carries the outcome
      });
      call.on('status', (status: grpc.StatusObject) => resolve(classify(status)));
      this.#setState({ state: 'connected', since: Date.now() });
      for (const typeUrl of Object.keys(this.#options.handlers)) this.#sendInitial(call, typeUrl);
    });
  }

  #sendInitial(call: Call, typeUrl: string): void {
    const onDemand = this.#onDemand.has(typeUrl);
    const request: DeltaDiscoveryRequest = {
      node: this.#options.node,
      typeUrl,
      // on demand: subscribe to "*" and unsubscribe it again (= nothing), plus the names asked for so far
      resourceNamesSubscribe: onDemand ? ['*', ...this.#demanded] : [],
      resourceNamesUnsubscribe: onDemand ? ['*'] : [],
      initialResourceVersions: Object.fromEntries(this.#known.get(typeUrl) ?? []),
      responseNonce: '',
    };
    this.#writeTo(call, request);
  }

  #write(request: DeltaDiscoveryRequest): void {
    if (this.#call) this.#writeTo(this.#call, request);
  }

  #writeTo(call: Call, request: DeltaDiscoveryRequest): void {
    try {
      call.write(request);
    } catch {
      // the stream is ending; the loop reconnects
    }
  }

  async #onResponse(call: Call, response: DeltaDiscoveryResponse): Promise<void> {
    const typeUrl = response.typeUrl;
    const bytes = response.resources.reduce((sum, r) => sum + (r.resource?.value.length ?? 0), 0);
    this.#counters.messages[typeUrl] = (this.#counters.messages[typeUrl] ?? 0) + 1;
    this.#counters.messageBytes[typeUrl] = (this.#counters.messageBytes[typeUrl] ?? 0) + bytes;
    this.#hook(() => this.#options.hooks?.onMessage?.(typeUrl, bytes));
    const handler = this.#options.handlers[typeUrl];
    let rejected: readonly XdsRejection[] = [];
    if (handler) {
      try {
        const result = await handler.handle({
          typeUrl,
          resources: response.resources,
          removed: response.removedResources,
        });
        rejected = result?.rejected ?? [];
      } catch (error) {
        const reason = `handler failed: ${errorMessage(error)}`;
        rejected =
          response.resources.length > 0
            ? response.resources.map((r) => ({ name: r.name, reason }))
            : [{ name: typeUrl, reason }];
      }
      const known = this.#known.get(typeUrl)!;
      const rejectedNames = new Set(rejected.map((r) => r.name));
      for (const resource of response.resources) {
        // rejected resources are not recorded, so a reconnect gets them again
        if (rejectedNames.has(resource.name)) known.delete(resource.name);
        else known.set(resource.name, resource.version);
      }
      for (const name of response.removedResources) known.delete(name);
    }
    if (this.#call !== call) return; // stream already replaced; this response is not acknowledged
    if (rejected.length === 0) {
      this.#writeTo(call, ack(typeUrl, response.nonce));
      this.#hook(() => this.#options.hooks?.onAck?.(typeUrl, response.nonce));
    } else {
      const message = rejected.map((r) => `${r.name}: ${r.reason}`).join('; ');
      this.#writeTo(call, {
        ...ack(typeUrl, response.nonce),
        errorDetail: { code: grpc.status.INVALID_ARGUMENT, message },
      });
      this.#hook(() => this.#options.hooks?.onNack?.(typeUrl, response.nonce, message));
    }
    this.#resolveWaiters(response);
    if (handler && !this.#onDemand.has(typeUrl) && !this.#synced.has(typeUrl)) {
      this.#synced.add(typeUrl);
      if (this.synced) for (const resolve of this.#syncWaiters) resolve();
      if (this.synced) this.#syncWaiters.clear();
    }
  }

  #resolveWaiters(response: DeltaDiscoveryResponse): void {
    const settle = (name: string, result: DemandResult) => {
      if (this.#demanded.has(name)) this.#answered.set(name, result);
      for (const resolve of [...(this.#waiters.get(name) ?? [])]) resolve(result);
    };
    for (const resource of response.resources) {
      settle(resource.name, 'received');
      for (const alias of resource.aliases ?? []) settle(alias, 'received');
    }
    for (const name of response.removedResources) settle(name, 'removed');
  }
}

function ack(typeUrl: string, nonce: string): DeltaDiscoveryRequest {
  return {
    typeUrl,
    responseNonce: nonce,
    resourceNamesSubscribe: [],
    resourceNamesUnsubscribe: [],
    initialResourceVersions: {},
  };
}

/** ztunnel's split: benign terminations reconnect at once, the rest back off. */
export function classify(status: grpc.StatusObject): Termination {
  const detail = `${grpc.status[status.code] ?? status.code}: ${status.details}`;
  if (status.code === grpc.status.OK) return { reason: 'Complete', benign: true, detail };
  if (BENIGN_CODES.has(status.code)) return { reason: 'Reconnect', benign: true, detail };
  if (
    status.code === grpc.status.UNAVAILABLE &&
    /transport is closing|prior goaway|goaway|connection dropped/i.test(status.details)
  ) {
    return { reason: 'Reconnect', benign: true, detail };
  }
  if (status.code === grpc.status.UNAVAILABLE) return { reason: 'ConnectionError', benign: false, detail };
  return { reason: 'Error', benign: false, detail };
}
