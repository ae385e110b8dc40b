// Follows a file: fs.watch on its directory (editors and the mesh runner replace files by rename, which a watch on
// the file itself would lose), debounced, plus a periodic stat in case the watch misses something (network file
// systems, a directory re-created). `onChange` runs once per settled change, never twice at once.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FollowOptions {
  readonly debounceMs: number;
  readonly pollMs: number;
  readonly onChange: () => Promise<void>;
}

export class FileFollower {
  readonly #path: string;
  readonly #options: FollowOptions;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #signature: string | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(path: string, options: FollowOptions) {
    this.#path = path;
    this.#options = options;
  }

  /** The file's state now (inode, size, mtime), to pass to start() when it is read. */
  static signature(path: string): Promise<string> {
    return signatureOf(path);
  }

  /**
   * Starts following. `signature`: the state the caller loaded (taken before reading it), so a change made
   * while the caller was busy is still reported; default the state now.
   */
  async start(signature?: string): Promise<void> {
    this.#signature = signature ?? (await this.#stat());
    try {
      this.#watcher = watch(dirname(this.#path), (_event, name) => {
        if (name === null || name === basename(this.#path)) this.#schedule();
      });
      this.#watcher.on('error', () => undefined); // the poll still runs
    } catch {
      // no watch here (directory gone?): the poll covers it
    }
    this.#poll = setInterval(() => void this.#check(), this.#options.pollMs);
    this.#poll.unref();
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }

  /** Resolves once a change in progress (if any) was handled. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#check(), this.#options.debounceMs);
  }

  async #check(): Promise<void> {
    if (this.#stopped) return;
    // Inode, size and mtime (ns resolution): the watch and the poll report one edit once between them.
    const signature = await this.#stat();
    if (signature === this.#signature) return;
    this.#signature = signature;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#options.onChange().catch(() => undefined);
      } while (this.#again && !this.#stopped);
    })();
    await this.#running;
    this.#running = undefined;
  }

  #stat(): Promise<string> {
    return signatureOf(this.#path);
  }
}

async function signatureOf(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code}`;
  }
}
