// The proxy's lifecycle as an explicit state machine (ztunnel's drain.rs, in our words):
//   starting → running → draining → stopped
// Draining closes listeners at once, lets established connections finish until the deadline, then
// forces what is left closed. A second drain request while draining does not restart the clock.

export type LifecycleState =
  | { state: 'starting' }
  | { state: 'running'; since: number }
  | { state: 'draining'; deadline: number }
  | { state: 'stopped'; forced: number };

export interface DrainSteps {
  /** Stop accepting: close every listener (new connections must go to another instance). */
  stopAccepting: () => Promise<void>;
  /** Tell HBONE peers to stop opening streams (GOAWAY). */
  goAway: () => Promise<void>;
  /** Resolves when no connection is left. */
  idle: () => Promise<void>;
  /** Close what is still open after the deadline; returns how many were forced. */
  forceClose: (reason: string) => number;
  /** Release everything else (servers, clients, timers). */
  shutdown: () => Promise<void>;
}

export class Lifecycle {
  #state: LifecycleState = { state: 'starting' };
  #drained: Promise<LifecycleState> | undefined;
  readonly #listeners = new Set<(state: LifecycleState) => void>();

  get current(): LifecycleState {
    return this.#state;
  }

  onChange(listener: (state: LifecycleState) => void): void {
    this.#listeners.add(listener);
  }

  #set(state: LifecycleState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }

  running(): void {
    if (this.#state.state === 'starting') this.#set({ state: 'running', since: Date.now() });
  }

  /** Drain with the given deadline; idempotent (later calls return the first drain's outcome). */
  drain(deadlineMs: number, steps: DrainSteps): Promise<LifecycleState> {
    this.#drained ??= (async () => {
      this.#set({ state: 'draining', deadline: Date.now() + deadlineMs });
      await steps.stopAccepting();
      await steps.goAway();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        steps.idle().then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs))),
      ]);
      clearTimeout(timer);
      const forced = timedOut ? steps.forceClose('connection closed due to connection drain') : 0;
      await steps.shutdown();
      const stopped: LifecycleState = { state: 'stopped', forced };
      this.#set(stopped);
      return stopped;
    })();
    return this.#drained;
  }
}
