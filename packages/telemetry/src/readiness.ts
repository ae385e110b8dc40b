// Readiness as ztunnel reports it: ready once every registered task has completed, otherwise the list
// of pending tasks ("not ready, pending: state manager").

export class Readiness {
  readonly #pending = new Set<string>();

  /** Register a task that must complete before the process is ready. */
  register(task: string): void {
    this.#pending.add(task);
  }

  complete(task: string): void {
    this.#pending.delete(task);
  }

  get ready(): boolean {
    return this.#pending.size === 0;
  }

  pending(): string[] {
    return [...this.#pending].sort();
  }
}
