// The one bidirectional copy: backpressured both ways, byte counters, half-close, and reset mapping
// (facts §1.2). EOF on one side becomes END_STREAM / FIN on the other; RST_STREAM NO_ERROR or CANCEL
// counts as EOF; any other RST_STREAM or a TCP reset resets the other side (RST_STREAM CONNECT_ERROR
// toward HTTP/2, TCP RST toward a socket), so a backend reset reaches the client as an error.
import { constants as h2 } from 'node:http2';
import type { Http2Stream } from 'node:http2';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendRstStream } from './h2-reset.ts';

export type SpliceOutcome = 'clean' | 'reset' | 'error';

export interface SpliceResult {
  /** Bytes read from `a` and written to `b`. */
  aToB: number;
  /** Bytes read from `b` and written to `a`. */
  bToA: number;
  /** `clean`: both directions ended normally; `reset`: a side was reset; `error`: any other failure. */
  outcome: SpliceOutcome;
  error?: Error;
}

/** How an HTTP/2 RST_STREAM code reads to the other leg (ztunnel src/proxy/h2.rs). */
export function classifyResetCode(code: number): 'eof' | 'broken-pipe' | 'reset' {
  if (code === h2.NGHTTP2_NO_ERROR || code === h2.NGHTTP2_CANCEL) return 'eof';
  if (code === h2.NGHTTP2_STREAM_CLOSED) return 'broken-pipe';
  return 'reset';
}

function isH2Stream(stream: Duplex): stream is Duplex & Http2Stream {
  return 'rstCode' in stream && typeof (stream as Partial<Http2Stream>).close === 'function';
}

/** Tear a stream down so the far end sees a reset, not a clean close. */
export function resetStream(stream: Duplex, error?: Error): void {
  if (isH2Stream(stream)) {
    sendRstStream(stream, h2.NGHTTP2_CONNECT_ERROR);
    return;
  }
  if (stream instanceof Socket && !stream.destroyed && typeof stream.resetAndDestroy === 'function') {
    // resetAndDestroy throws on a socket that is still connecting.
    if (!stream.connecting) {
      stream.resetAndDestroy();
      return;
    }
  }
  stream.destroy(error);
}

const resetErrorCodes = new Set(['ECONNRESET', 'ERR_HTTP2_STREAM_ERROR', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** A running splice of two duplexes. */
export class Splice {
  readonly done: Promise<SpliceResult>;
  #aToB = 0;
  #bToA = 0;
  #finished = 0;
  #settled = false;
  #resolve!: (result: SpliceResult) => void;
  readonly #a: Duplex;
  readonly #b: Duplex;

  constructor(a: Duplex, b: Duplex) {
    this.#a = a;
    this.#b = b;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    for (const side of [a, b]) {
      if (side instanceof Socket) side.allowHalfOpen = true;
    }
    this.#direction(a, b, (n) => (this.#aToB += n));
    this.#direction(b, a, (n) => (this.#bToA += n));
  }

  get aToB(): number {
    return this.#aToB;
  }

  get bToA(): number {
    return this.#bToA;
  }

  /** Stop copying and reset both sides (e.g. a policy change now denies this connection). */
  abort(error: Error = new Error('splice aborted')): void {
    this.#fail('reset', error);
  }

  #direction(src: Duplex, dst: Duplex, count: (n: number) => void): void {
    const onData = (chunk: Buffer): void => {
      count(chunk.length);
      if (batch && !corked) {
        corked = true;
        dst.cork();
        setImmediate(uncork);
      }
      if (!dst.write(chunk)) src.pause();
    };
    // HTTP/2 hands us one DATA chunk (≤ 16 KiB) per callback; many arrive per socket read. Corking the
    // socket until the end of this event-loop turn turns them into one writev instead of many writes.
    const batch = isH2Stream(src) && dst instanceof Socket;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      dst.uncork();
    };
    const endDst = (): void => {
      if (this.#settled) return;
      // A RST_STREAM that is not NO_ERROR/CANCEL arrives as 'error'; its 'end' (if any) is not an EOF.
      if (isH2Stream(src) && classifyResetCode(src.rstCode ?? 0) !== 'eof') return;
      dst.end();
    };
    src.on('data', onData);
    dst.on('drain', () => src.resume());
    src.on('end', endDst);
    dst.on('finish', () => {
      this.#finished++;
      if (this.#finished === 2) this.#settle('clean');
    });
    src.on('error', (error: Error) => this.#onError(src, error));
    src.on('close', () => this.#onClose(src));
  }

  #onError(side: Duplex, error: Error): void {
    const code = (error as { code?: string }).code ?? '';
    if (isH2Stream(side)) {
      const kind = classifyResetCode(side.rstCode ?? h2.NGHTTP2_INTERNAL_ERROR);
      if (kind === 'eof') return;
      this.#fail(kind === 'reset' ? 'reset' : 'error', error);
      return;
    }
    this.#fail(resetErrorCodes.has(code) ? 'reset' : 'error', error);
  }

  #onClose(side: Duplex): void {
    if (this.#settled) return;
    // A clean RST (NO_ERROR / CANCEL) closes both halves of an HTTP/2 stream at once: finish politely.
    if (isH2Stream(side) && classifyResetCode(side.rstCode ?? 0) === 'eof' && !side.errored) {
      const other = side === this.#a ? this.#b : this.#a;
      if (!other.writableEnded) other.end();
      if (side.writableFinished || side.writableEnded) return;
      setImmediate(() => this.#settle('clean'));
      return;
    }
    // Closed without an error event: a local destroy() or an abort; the error path may still run.
    setImmediate(() => {
      if (!this.#settled && !(side.writableFinished && side.readableEnded)) {
        this.#fail('reset', side.errored ?? new Error('stream closed before the copy finished'));
      }
    });
  }

  #fail(outcome: SpliceOutcome, error: Error): void {
    if (this.#settled) return;
    for (const side of [this.#a, this.#b]) resetStream(side, error);
    this.#settle(outcome, error);
  }

  #settle(outcome: SpliceOutcome, error?: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    if (outcome === 'clean') {
      // Both directions ended: release sockets that are still half-open.
      for (const side of [this.#a, this.#b]) if (!side.destroyed && side instanceof Socket) side.destroy();
    }
    const result: SpliceResult = { aToB: this.#aToB, bToA: this.#bToA, outcome };
    if (error) result.error = error;
    this.#resolve(result);
  }
}

/** Copy `a` ⇄ `b` until both directions end or one side fails. */
export function splice(a: Duplex, b: Duplex): Splice {
  return new Splice(a, b);
}
