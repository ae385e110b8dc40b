// Time as an injectable dependency, so rotation and backoff are tested without waiting.

/** A scheduled callback that can be cancelled. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (like Date.now()). */
  now(): number;
  /** Run `callback` after `delayMs` (clamped to >= 0). */
  setTimer(callback: () => void, delayMs: number): Timer;
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days); long waits are re-armed in steps.
const maxTimeout = 2_147_483_647;

/** The real clock. Timers are unref'd: a pending refresh never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const due = Date.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout;
    const arm = (): void => {
      const left = due - Date.now();
      handle = setTimeout(left > maxTimeout ? arm : callback, Math.min(Math.max(0, left), maxTimeout));
      handle.unref();
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface Pending {
  due: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in due-time order during `advance`. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start: number | Date = Date.now()) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const entry: Pending = { due: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback, cancelled: false };
    this.#pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.#pending.filter((entry) => !entry.cancelled).length;
  }

  /** Due time of the earliest pending timer, if any. */
  nextDue(): number | undefined {
    const live = this.#pending.filter((entry) => !entry.cancelled);
    return live.length === 0 ? undefined : Math.min(...live.map((entry) => entry.due));
  }

  /** Move time forward, firing every timer that falls due (including ones set by fired callbacks). */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      this.#pending = this.#pending.filter((entry) => !entry.cancelled);
      const next = this.#pending
        .filter((entry) => entry.due <= target)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.#pending.splice(this.#pending.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.due);
      next.callback();
    }
    this.#now = target;
  }

  /** Jump to an absolute time (never backwards). */
  advanceTo(time: number | Date): void {
    this.advance((typeof time === 'number' ? time : time.getTime()) - this.#now);
  }
}
