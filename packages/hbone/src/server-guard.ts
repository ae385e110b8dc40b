// Bound what one connection can make us buffer. Node consumes the HTTP/2 *connection* window as soon
// as DATA arrives and only holds back *stream* windows while a tunnel is not being read, so 200 stalled
// streams could park 200 × 4 MiB here — where ztunnel's 16 MiB connection window would stall the sender.
// While a connection has tunnels we periodically add up what its tunnels hold and, over the budget, reset
// the biggest stalled tunnels (RST_STREAM ENHANCE_YOUR_CALM) until it fits again.
import { constants as h2, type Http2Stream } from 'node:http2';
import { sendRstStream } from './h2-reset.ts';
import type { Duplex } from 'node:stream';

export interface BufferedTunnel {
  readonly stream: Duplex;
}

/** A tunnel holds data its consumer has not taken: never read, or paused by backpressure. */
function stalled(stream: Duplex): boolean {
  return stream.readableLength > 0 && stream.readableFlowing !== true;
}

/** Pure decision: which tunnels to reset so the total held stays within `budget`. */
export function overBudget<T extends BufferedTunnel>(tunnels: Iterable<T>, budget: number): T[] {
  let total = 0;
  const candidates: T[] = [];
  for (const tunnel of tunnels) {
    total += tunnel.stream.readableLength;
    if (stalled(tunnel.stream)) candidates.push(tunnel);
  }
  if (total <= budget) return [];
  candidates.sort((x, y) => y.stream.readableLength - x.stream.readableLength);
  const victims: T[] = [];
  for (const tunnel of candidates) {
    if (total <= budget) break;
    total -= tunnel.stream.readableLength;
    victims.push(tunnel);
  }
  return victims;
}

/** Checks one connection's tunnels every `intervalMs` while it has any. */
export class BufferGuard<T extends BufferedTunnel> {
  readonly #tunnels: ReadonlySet<T>;
  readonly #budget: number;
  readonly #onReset: (tunnel: T) => void;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(tunnels: ReadonlySet<T>, budget: number, onReset: (tunnel: T) => void, intervalMs = 100) {
    this.#tunnels = tunnels;
    this.#budget = budget;
    this.#onReset = onReset;
    this.#intervalMs = intervalMs;
  }

  /** Call after the tunnel set changed. */
  update(): void {
    if (this.#tunnels.size === 0) {
      this.stop();
    } else if (!this.#timer) {
      this.#timer = setInterval(() => this.check(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  check(): void {
    for (const victim of overBudget(this.#tunnels, this.#budget)) {
      sendRstStream(victim.stream as unknown as Http2Stream, h2.NGHTTP2_ENHANCE_YOUR_CALM);
      this.#onReset(victim);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
