// One ztunnel connection on the agent's side of ZDS (facts §9.1): ztunnel's ZdsHello (V1) comes first, then the
// agent sends WorkloadRequests one at a time, each answered by exactly one WorkloadResponse{ack}. A request waits
// for its Ack before the next is sent; no Ack within the timeout, a second hello, an answer nobody asked for or
// bytes that are not a response drop the connection (ztunnel reconnects and is sent a fresh snapshot).
import {
  decodeWorkloadResponse,
  decodeZdsHello,
  encodeWorkloadRequest,
  ZDS_MAX_MESSAGE_BYTES,
  type zds,
} from '@ambient-ts/istio-api';

/** The socket (SeqpacketSocket of @ambient-ts/netns fits). */
export interface ZdsPeer {
  send(data: Uint8Array, fds?: readonly number[]): void;
  close(): void;
  on(
    event: 'message',
    listener: (packet: { data: Uint8Array; fds: readonly number[]; truncated: boolean }) => void,
  ): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface Logger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface AddRequest {
  readonly kind: 'add';
  readonly uid: string;
  readonly info: zds.WorkloadInfo;
  /** `<namespace>/<name>`, for logs. */
  readonly pod: string;
  /** Opens the pod's netns just before sending; `close` runs once it was sent. Throws when the namespace is gone. */
  readonly open: () => { readonly fd: number; readonly close: () => void };
}
export type ZdsRequest =
  | AddRequest
  | { readonly kind: 'del'; readonly uid: string; readonly pod: string }
  | { readonly kind: 'snapshot-sent' };

export type RequestOutcome =
  | { readonly result: 'ack' }
  | { readonly result: 'nack'; readonly error: string }
  /** Not sent: the Add's namespace could not be opened, or the request does not fit in a ZDS message. */
  | { readonly result: 'not-sent'; readonly error: string }
  /** The connection ended before the Ack (timeout, ztunnel hung up, the agent closed it). */
  | { readonly result: 'dropped'; readonly error: string };

export type ConnectionPhase = 'awaiting-hello' | 'open' | 'closed';

export interface ZdsConnectionOptions {
  readonly id: number;
  readonly ackTimeoutMs: number;
  /** How long ztunnel may take to say hello; default the ack timeout. */
  readonly helloTimeoutMs?: number;
  readonly log: Logger;
  readonly onHello: (connection: ZdsConnection) => void;
  readonly onClose: (connection: ZdsConnection, reason: string) => void;
}

interface Queued {
  readonly request: ZdsRequest;
  readonly settle: (outcome: RequestOutcome) => void;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The bytes of a request (Add's fd aside); pure. */
export function encodeRequest(request: ZdsRequest): Uint8Array {
  switch (request.kind) {
    case 'add':
      return encodeWorkloadRequest({ add: { uid: request.uid, workloadInfo: request.info } });
    case 'del':
      return encodeWorkloadRequest({ del: { uid: request.uid } });
    case 'snapshot-sent':
      return encodeWorkloadRequest({ snapshotSent: {} });
  }
}

const describe = (request: ZdsRequest): string =>
  request.kind === 'snapshot-sent' ? 'SnapshotSent' : `${request.kind === 'add' ? 'Add' : 'Del'} ${request.pod}`;

export class ZdsConnection {
  readonly id: number;
  readonly #peer: ZdsPeer;
  readonly #options: ZdsConnectionOptions;
  readonly #queue: Queued[] = [];
  #inFlight: (Queued & { timer: NodeJS.Timeout }) | undefined;
  #phase: ConnectionPhase = 'awaiting-hello';
  #helloTimer: NodeJS.Timeout | undefined;
  #error: string | undefined;
  /** Requests sent and acknowledged / NACKed so far. */
  acks = 0;
  nacks = 0;

  constructor(peer: ZdsPeer, options: ZdsConnectionOptions) {
    this.id = options.id;
    this.#peer = peer;
    this.#options = options;
    peer.on('message', (packet) => this.#receive(packet));
    peer.on('error', (error) => (this.#error = errorText(error)));
    peer.on('close', () => this.close(this.#error ?? 'ztunnel closed the connection'));
    this.#helloTimer = setTimeout(
      () => this.close(`no ZdsHello within ${options.helloTimeoutMs ?? options.ackTimeoutMs} ms`),
      options.helloTimeoutMs ?? options.ackTimeoutMs,
    );
  }

  get phase(): ConnectionPhase {
    return this.#phase;
  }

  /** Requests waiting (the one in flight included). */
  get backlog(): number {
    return this.#queue.length + (this.#inFlight ? 1 : 0);
  }

  /** Queues a request; resolves once ztunnel answered it (or it could not be sent, or the connection ended). */
  request(request: ZdsRequest): Promise<RequestOutcome> {
    if (this.#phase === 'closed') return Promise.resolve({ result: 'dropped', error: 'connection closed' });
    return new Promise((settle) => {
      this.#queue.push({ request, settle });
      this.#pump();
    });
  }

  /** Ends the connection; every queued request resolves as dropped. Idempotent. */
  close(reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    clearTimeout(this.#helloTimer);
    const dropped: RequestOutcome = { result: 'dropped', error: reason };
    if (this.#inFlight) {
      clearTimeout(this.#inFlight.timer);
      this.#inFlight.settle(dropped);
      this.#inFlight = undefined;
    }
    for (const queued of this.#queue.splice(0)) queued.settle(dropped);
    this.#peer.close();
    this.#options.log.info({ connection: this.id, reason }, 'ztunnel connection closed');
    this.#options.onClose(this, reason);
  }

  #receive(packet: { data: Uint8Array; fds: readonly number[]; truncated: boolean }): void {
    if (packet.fds.length > 0) {
      this.close(`ztunnel sent ${packet.fds.length} fd(s); ZDS responses carry none`);
      return;
    }
    if (packet.truncated) {
      this.close(`ztunnel sent a message larger than ${ZDS_MAX_MESSAGE_BYTES} bytes`);
      return;
    }
    if (this.#phase === 'awaiting-hello') {
      let hello: zds.ZdsHello;
      try {
        hello = decodeZdsHello(packet.data);
      } catch (error) {
        this.close(`the first message is not a ZdsHello: ${errorText(error)}`);
        return;
      }
      if (hello.version !== 'V1') {
        this.close(`ZdsHello version ${String(hello.version ?? 'NOT_USED')} is not supported (only V1)`);
        return;
      }
      clearTimeout(this.#helloTimer);
      this.#phase = 'open';
      this.#options.log.info({ connection: this.id }, 'ztunnel connected (ZdsHello V1)');
      this.#options.onHello(this);
      this.#pump();
      return;
    }
    let response: zds.WorkloadResponse;
    try {
      response = decodeWorkloadResponse(packet.data);
    } catch (error) {
      this.close(`not a WorkloadResponse: ${errorText(error)}`);
      return;
    }
    const inFlight = this.#inFlight;
    if (!response.ack || !inFlight) {
      this.close(!inFlight ? 'a WorkloadResponse with no request in flight' : 'a WorkloadResponse without an ack');
      return;
    }
    clearTimeout(inFlight.timer);
    this.#inFlight = undefined;
    if (response.ack.error) {
      this.nacks += 1;
      inFlight.settle({ result: 'nack', error: response.ack.error });
    } else {
      this.acks += 1;
      inFlight.settle({ result: 'ack' });
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#phase === 'open' && !this.#inFlight) {
      const next = this.#queue.shift();
      if (!next) return;
      const { request } = next;
      const bytes = encodeRequest(request);
      if (bytes.length > ZDS_MAX_MESSAGE_BYTES) {
        next.settle({
          result: 'not-sent',
          error: `${describe(request)} is ${bytes.length} bytes, more than ZDS's ${ZDS_MAX_MESSAGE_BYTES}`,
        });
        continue;
      }
      let netns: { readonly fd: number; readonly close: () => void } | undefined;
      if (request.kind === 'add') {
        try {
          netns = request.open();
        } catch (error) {
          next.settle({ result: 'not-sent', error: errorText(error) });
          continue;
        }
      }
      try {
        this.#peer.send(bytes, netns ? [netns.fd] : []);
      } catch (error) {
        next.settle({ result: 'dropped', error: `sending ${describe(request)} failed: ${errorText(error)}` });
        this.close(`sending failed: ${errorText(error)}`);
        return;
      } finally {
        netns?.close(); // the kernel gave ztunnel its own copy
      }
      const timer = setTimeout(
        () => this.close(`no Ack for ${describe(request)} within ${this.#options.ackTimeoutMs} ms`),
        this.#options.ackTimeoutMs,
      );
      this.#inFlight = { ...next, timer };
    }
  }
}
