// Open-loop request/response load (like fortio -qps or wrk2): each keep-alive connection has a fixed
// schedule, request i due at start + offset + i × interval. A request is sent when due, or as soon as
// the previous response is in when that came late; then its latency counts from the DUE time, so a
// stall of the path is charged to every request it delays (no coordinated omission). When the
// connection was free at the due time, latency counts from the actual write: Node timers have 1 ms
// granularity, and that jitter belongs to the load generator, not to the path.
import type { Socket } from 'node:net';
import { MESSAGE } from './apps.ts';
import type { Opener } from './client.ts';

const request = Buffer.alloc(MESSAGE, 0x71);

export interface LatencySummary {
  count: number;
  /** Achieved requests per second. */
  rate: number;
  /** From the due time when the request queued behind a late response, else from the write; ms. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** From the moment the request was written (service time), ms. */
  serviceP50: number;
  serviceP99: number;
  /** Share of requests that were due before the previous response on their connection was in. */
  queued: number;
}

/** A keep-alive connection that answers one request at a time. */
class Exchange {
  readonly socket: Socket;
  #pending = 0;
  #waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (data: Buffer) => {
      this.#pending -= data.length;
      if (this.#pending <= 0) this.#settle();
    });
    socket.on('close', () => this.#settle(new Error('connection closed during a request')));
  }

  #settle(error?: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (error) waiting?.reject(error);
    else waiting?.resolve();
  }

  send(): Promise<void> {
    this.#pending += MESSAGE;
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.socket.write(request);
    });
  }
}

export class LatencyClient {
  readonly #open: Opener;
  #exchanges: Exchange[] = [];

  constructor(open: Opener) {
    this.#open = open;
  }

  async run(connections: number, requestsPerSecond: number, ms: number): Promise<LatencySummary> {
    while (this.#exchanges.length < connections) this.#exchanges.push(new Exchange(await this.#open('rr')));
    const gap = 1000 / requestsPerSecond;
    const interval = gap * connections;
    const perConnection = Math.floor(ms / interval);
    const total = perConnection * connections;
    const fromDue = new Float64Array(total);
    const service = new Float64Array(total);
    let queued = 0;
    const start = performance.now() + 20;
    await Promise.all(
      this.#exchanges.slice(0, connections).map(async (exchange, index) => {
        for (let i = 0; i < perConnection; i++) {
          const due = start + index * gap + i * interval;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          else if (i > 0) queued++;
          const sent = performance.now();
          await exchange.send();
          const done = performance.now();
          const slot = i * connections + index;
          fromDue[slot] = wait > 0 ? done - sent : done - due;
          service[slot] = done - sent;
        }
      }),
    );
    const elapsed = performance.now() - start;
    fromDue.sort();
    service.sort();
    const q = (sorted: Float64Array, p: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return {
      count: total,
      rate: total / (elapsed / 1000),
      p50: q(fromDue, 0.5),
      p90: q(fromDue, 0.9),
      p99: q(fromDue, 0.99),
      p999: q(fromDue, 0.999),
      max: fromDue[total - 1]!,
      serviceP50: q(service, 0.5),
      serviceP99: q(service, 0.99),
      queued: queued / total,
    };
  }

  close(): void {
    for (const exchange of this.#exchanges) exchange.socket.destroy();
    this.#exchanges = [];
  }
}
