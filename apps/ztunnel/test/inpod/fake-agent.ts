// A stand-in for Istio's CNI node agent on the ZDS socket, for tests: it listens on a SOCK_SEQPACKET path
// (SeqpacketServer of @ambient-ts/netns) and speaks bytes built with @ambient-ts/istio-api's generic codec by
// message name, not with ztunnel's own protocol module.
import { rmSync } from 'node:fs';
import { decodeMessage, encodeMessage, type zds } from '@ambient-ts/istio-api';
import type { SeqpacketMessage, SeqpacketSocket } from '@ambient-ts/netns';

// loaded lazily like everywhere in ztunnel (an optional dependency); this module is only imported when it works
const { SeqpacketServer } = await import('@ambient-ts/netns');

/** Messages in arrival order, awaited one by one. */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  next(timeoutMs: number, what: string): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`fake agent: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#waiters.push(waiter);
    });
  }
}

export class AgentConnection {
  readonly socket: SeqpacketSocket;
  readonly #inbox = new Inbox<SeqpacketMessage>();
  readonly closed: Promise<void>;

  constructor(socket: SeqpacketSocket) {
    this.socket = socket;
    socket.on('message', (message) => this.#inbox.push(message));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** The first packet ztunnel sends: ZdsHello. */
  async hello(timeoutMs = 5000): Promise<zds.ZdsHello> {
    const message = await this.#inbox.next(timeoutMs, 'ZdsHello');
    return decodeMessage('istio.workload.zds.ZdsHello', message.data);
  }

  send(bytes: Uint8Array, fds: readonly number[] = []): void {
    this.socket.send(bytes, fds);
  }

  /** The next WorkloadResponse from ztunnel. */
  async response(timeoutMs = 5000): Promise<zds.WorkloadResponse> {
    const message = await this.#inbox.next(timeoutMs, 'WorkloadResponse');
    expectNoFds(message);
    return decodeMessage('istio.workload.zds.WorkloadResponse', message.data);
  }

  /** Send one WorkloadRequest (with fds) and wait for its response. */
  async request(request: zds.WorkloadRequest, fds: readonly number[] = []): Promise<zds.WorkloadResponse> {
    this.send(encodeMessage('istio.workload.zds.WorkloadRequest', request), fds);
    return this.response();
  }

  /** Send raw bytes (fds optional) and wait for the response. */
  async raw(bytes: Uint8Array, fds: readonly number[] = []): Promise<zds.WorkloadResponse> {
    this.send(bytes, fds);
    return this.response();
  }

  close(): void {
    this.socket.close();
  }
}

function expectNoFds(message: SeqpacketMessage): void {
  if (message.fds.length > 0) throw new Error(`ztunnel sent ${message.fds.length} fds with a response`);
}

export class FakeAgent {
  readonly path: string;
  #server: InstanceType<typeof SeqpacketServer> | undefined;
  readonly #connections = new Inbox<AgentConnection>();
  readonly #all: AgentConnection[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Listen (again) on the path; a stale socket file from an earlier run is removed first. */
  listen(): this {
    rmSync(this.path, { force: true });
    this.#server = new SeqpacketServer(this.path);
    this.#server.on('connection', (socket) => {
      const connection = new AgentConnection(socket);
      this.#all.push(connection);
      this.#connections.push(connection);
    });
    return this;
  }

  /** The next connection ztunnel makes, with its hello already checked by the caller. */
  connection(timeoutMs = 5000): Promise<AgentConnection> {
    return this.#connections.next(timeoutMs, 'connection');
  }

  /** Stop listening and hang up every connection (an agent restart or exit). */
  stop(): void {
    this.#server?.close();
    this.#server = undefined;
    rmSync(this.path, { force: true });
    for (const connection of this.#all) connection.close();
  }
}

/** An AddWorkload request for a pod named by uid. */
export function addRequest(uid: string, info: zds.WorkloadInfo | undefined): zds.WorkloadRequest {
  return { add: { uid, ...(info ? { workloadInfo: info } : {}) } };
}
