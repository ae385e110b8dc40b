// Forwarding to the upstream nameservers (ztunnel's resolv.conf): UDP first, the same query again over TCP
// when the answer is truncated, a timeout per try, every nameserver in order for `attempts` rounds. A few UDP
// sockets per address family (each its own random source port) carry every query, picked at random, with random
// ids; an answer counts only on the socket that asked, from the upstream asked, for the question asked. The
// number in flight is capped so a flood cannot grow memory without bound.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { DnsError } from './errors.ts';
import type { DnsProtocol, DnsQuery } from './model.ts';
import type { Upstream } from './resolv-conf.ts';
import { checkUpstreamResponse, withId, type UpstreamAnswer } from './wire.ts';

/** How the forwarder gets its sockets (ztunnel marks them; shared mode makes them in the pod's netns). */
export interface UpstreamSockets {
  /** A UDP socket, bound or not, for queries to upstreams of this family. */
  udp(type: 'udp4' | 'udp6'): UdpSocket | Promise<UdpSocket>;
  /** A TCP connection (connecting) to an upstream. */
  tcp(upstream: Upstream): Socket | Promise<Socket>;
}

export const defaultUpstreamSockets: UpstreamSockets = {
  udp: (type) => createSocket({ type }),
  tcp: (upstream) => connect({ host: upstream.host, port: upstream.port }),
};

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** Per try (resolv.conf `timeout`). */
  readonly timeoutMs: number;
  /** Rounds over every upstream (resolv.conf `attempts`). */
  readonly attempts: number;
  readonly sockets?: UpstreamSockets;
  /** Forwarded queries in flight at once; more are refused with DNS_OVERLOADED. Default 4096. */
  readonly maxInFlight?: number;
  /** UDP sockets (source ports) per address family, chosen at random per query. Default 4. */
  readonly udpSockets?: number;
}

export interface Forwarded {
  readonly response: Buffer;
  readonly upstream: Upstream;
  /** how the answer came: `tcp` after a truncated UDP answer */
  readonly protocol: DnsProtocol;
  readonly answer: UpstreamAnswer;
}

interface Pending {
  readonly socket: UdpSocket;
  readonly upstream: Upstream;
  readonly query: DnsQuery;
  readonly resolve: (result: { response: Buffer; answer: UpstreamAnswer }) => void;
}

const MAX_TCP_MESSAGE = 65_535;

export class Forwarder {
  readonly upstreams: readonly Upstream[];
  readonly #options: ForwarderOptions;
  readonly #sockets: UpstreamSockets;
  /** `udp4#0` … `udp6#3`: the sockets, made on first use. */
  readonly #udp = new Map<string, Promise<UdpSocket>>();
  readonly #pending = new Map<number, Pending>();
  #inFlight = 0;
  #closed = false;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.upstreams = options.upstreams;
    this.#sockets = options.sockets ?? defaultUpstreamSockets;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Forward `message` (the client's query bytes) and resolve with the upstream's answer, or throw DnsError. */
  async forward(message: Buffer, query: DnsQuery): Promise<Forwarded> {
    if (this.upstreams.length === 0) throw new DnsError('DNS_NO_UPSTREAM', 'resolv.conf names no usable nameserver');
    if (this.#inFlight >= (this.#options.maxInFlight ?? 4096)) {
      throw new DnsError('DNS_OVERLOADED', `${this.#inFlight} forwarded queries already in flight`);
    }
    this.#inFlight++;
    try {
      let last: DnsError | undefined;
      for (let attempt = 0; attempt < Math.max(1, this.#options.attempts); attempt++) {
        for (const upstream of this.upstreams) {
          try {
            return await this.#ask(upstream, message, query);
          } catch (error) {
            last = error instanceof DnsError ? error : new DnsError('DNS_UPSTREAM_FAILED', (error as Error).message);
            if (this.#closed) throw last;
          }
        }
      }
      throw last!;
    } finally {
      this.#inFlight--;
    }
  }

  async #ask(upstream: Upstream, message: Buffer, query: DnsQuery): Promise<Forwarded> {
    const udp = await this.#udpQuery(upstream, message, query);
    if (!udp.answer.truncated) return { ...udp, upstream, protocol: 'udp' };
    const tcp = await this.#tcpQuery(upstream, message, query);
    return { ...tcp, upstream, protocol: 'tcp' };
  }

  #socket(type: 'udp4' | 'udp6'): Promise<UdpSocket> {
    const key = `${type}#${randomInt(0, Math.max(1, this.#options.udpSockets ?? 4))}`;
    let socket = this.#udp.get(key);
    if (!socket) {
      socket = Promise.resolve(this.#sockets.udp(type)).then((udp) => {
        udp.on('message', (response, remote) => this.#onMessage(udp, response, remote));
        udp.on('error', () => {}); // per-datagram send errors surface as the query's failure/timeout
        udp.unref();
        return udp;
      });
      this.#udp.set(key, socket);
      socket.catch(() => this.#udp.delete(key));
    }
    return socket;
  }

  #onMessage(socket: UdpSocket, response: Buffer, remote: { address: string; port: number }): void {
    if (response.length < 2) return;
    const id = response.readUInt16BE(0);
    const pending = this.#pending.get(id);
    if (!pending || pending.socket !== socket) return;
    const host = remote.address.replace(/^::ffff:/, '');
    if (host !== pending.upstream.host || remote.port !== pending.upstream.port) return;
    const answer = checkUpstreamResponse(response, id, pending.query);
    if (!answer) return;
    this.#pending.delete(id);
    pending.resolve({ response, answer });
  }

  #freeId(): number {
    for (;;) {
      const id = randomInt(0, 65_536);
      if (!this.#pending.has(id)) return id;
    }
  }

  async #udpQuery(
    upstream: Upstream,
    message: Buffer,
    query: DnsQuery,
  ): Promise<{ response: Buffer; answer: UpstreamAnswer }> {
    const socket = await this.#socket(isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const id = this.#freeId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new DnsError(
            'DNS_UPSTREAM_TIMEOUT',
            `no answer from ${upstream.host}:${upstream.port} within ${this.#options.timeoutMs} ms`,
          ),
        );
      }, this.#options.timeoutMs);
      this.#pending.set(id, {
        socket,
        upstream,
        query,
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
      });
      socket.send(withId(message, id), upstream.port, upstream.host, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new DnsError('DNS_UPSTREAM_FAILED', `send to ${upstream.host}:${upstream.port}: ${error.message}`));
      });
    });
  }

  async #tcpQuery(
    upstream: Upstream,
    message: Buffer,
    query: DnsQuery,
  ): Promise<{ response: Buffer; answer: UpstreamAnswer }> {
    const id = this.#freeId();
    const socket = await this.#sockets.tcp(upstream);
    return new Promise((resolve, reject) => {
      let buffered: Buffer = Buffer.alloc(0);
      const fail = (code: 'DNS_UPSTREAM_TIMEOUT' | 'DNS_UPSTREAM_FAILED', text: string): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new DnsError(code, `TCP ${upstream.host}:${upstream.port}: ${text}`));
      };
      const timer = setTimeout(
        () => fail('DNS_UPSTREAM_TIMEOUT', `no answer within ${this.#options.timeoutMs} ms`),
        this.#options.timeoutMs,
      );
      socket.on('error', (error) => fail('DNS_UPSTREAM_FAILED', error.message));
      socket.on('close', () => fail('DNS_UPSTREAM_FAILED', 'closed before answering'));
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2) return;
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const response = buffered.subarray(2, 2 + length);
        const answer = checkUpstreamResponse(response, id, query);
        if (!answer) return fail('DNS_UPSTREAM_FAILED', 'answer does not match the query');
        clearTimeout(timer);
        socket.removeAllListeners('close');
        socket.destroy();
        resolve({ response: Buffer.from(response), answer });
      });
      const framed = Buffer.alloc(2 + message.length);
      framed.writeUInt16BE(Math.min(message.length, MAX_TCP_MESSAGE), 0);
      withId(message, id).copy(framed, 2);
      socket.write(framed);
    });
  }

  close(): void {
    this.#closed = true;
    for (const socket of this.#udp.values()) void socket.then((udp) => udp.close()).catch(() => {});
    this.#udp.clear();
  }
}
