// SOCK_SEQPACKET unix sockets with SCM_RIGHTS, the transport of ZDS (ztunnel ↔ CNI node agent): one message
// per packet, file descriptors riding along. Readiness comes from a libuv poll on Node's own event loop.
import { EventEmitter } from 'node:events';
import { addon } from './addon.ts';
import { native } from './errors.ts';

export interface SeqpacketMessage {
  data: Buffer;
  /** Received file descriptors (close-on-exec); the receiver owns and must close them. */
  fds: number[];
  /** The packet was longer than maxMessageBytes and was cut (MSG_TRUNC). */
  truncated: boolean;
  /** More fds arrived than fit; the extra ones were dropped by the kernel (MSG_CTRUNC). */
  controlTruncated: boolean;
}

export interface SeqpacketSocketEvents {
  message: [SeqpacketMessage];
  close: [];
  error: [Error];
}

/**
 * One end of a SOCK_SEQPACKET connection. Emits 'message' per packet, 'close' when the peer hangs up (an
 * empty packet without fds reads as the end, as in ztunnel) or close() is called, 'error' on a failed read.
 */
export class SeqpacketSocket extends EventEmitter<SeqpacketSocketEvents> {
  readonly fd: number;
  #watch: object | undefined;
  #closed = false;

  constructor(fd: number, options: { maxMessageBytes?: number } = {}) {
    super();
    this.fd = fd;
    const max = options.maxMessageBytes ?? 1024;
    const lib = addon();
    this.#watch = native('watch', () => lib.watchReadable(fd, () => this.#drain(max)));
  }

  /** Connects to a listening SOCK_SEQPACKET path. */
  static connect(path: string, options?: { maxMessageBytes?: number }): SeqpacketSocket {
    const fd = native(`connect ${path}`, () => addon().seqpacketConnect(path));
    return new SeqpacketSocket(fd, options);
  }

  /** Two connected ends (socketpair). */
  static pair(options?: { maxMessageBytes?: number }): [SeqpacketSocket, SeqpacketSocket] {
    const [a, b] = native('socketpair', () => addon().seqpacketPair());
    return [new SeqpacketSocket(a, options), new SeqpacketSocket(b, options)];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one packet with `fds` as SCM_RIGHTS (the fds stay open here: the peer gets duplicates). */
  send(data: Uint8Array, fds: readonly number[] = []): void {
    native('sendmsg', () => addon().sendWithFds(this.fd, data, fds));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watch) addon().unwatch(this.#watch);
    this.#watch = undefined;
    try {
      addon().close(this.fd);
    } finally {
      this.emit('close');
    }
  }

  #drain(max: number): void {
    while (!this.#closed) {
      let message: SeqpacketMessage | null;
      try {
        message = native('recvmsg', () => addon().recvWithFds(this.fd, max));
      } catch (error) {
        this.emit('error', error as Error);
        this.close();
        return;
      }
      if (message === null) return;
      if (message.data.length === 0 && message.fds.length === 0) {
        this.close();
        return;
      }
      this.emit('message', message);
    }
  }
}

/** A listening SOCK_SEQPACKET path (the CNI agent's side of ZDS); emits 'connection' with each peer. */
export class SeqpacketServer extends EventEmitter<{ connection: [SeqpacketSocket]; error: [Error] }> {
  readonly fd: number;
  #watch: object | undefined;

  constructor(path: string, options: { backlog?: number; maxMessageBytes?: number } = {}) {
    super();
    const lib = addon();
    this.fd = native(`listen ${path}`, () => lib.seqpacketListen(path, options.backlog ?? 16));
    this.#watch = native('watch', () =>
      lib.watchReadable(this.fd, () => {
        for (;;) {
          let peer: number | null;
          try {
            peer = native('accept', () => lib.seqpacketAccept(this.fd));
          } catch (error) {
            this.emit('error', error as Error);
            return;
          }
          if (peer === null) return;
          this.emit('connection', new SeqpacketSocket(peer, options));
        }
      }),
    );
  }

  close(): void {
    if (!this.#watch) return;
    addon().unwatch(this.#watch);
    this.#watch = undefined;
    addon().close(this.fd);
  }
}
