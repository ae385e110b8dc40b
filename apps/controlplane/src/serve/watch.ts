// Watch the served YAML for changes. Parent directories are watched rather than the files, because
// editors save by writing a new file and renaming it over the old one: a watch on the old file would see
// one event and then nothing. Events are debounced, so one save (often several events) is one reload.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isYamlName } from './config-source.ts';

export interface WatchOptions {
  readonly debounceMs: number;
  readonly onChange: () => void;
  readonly onError: (message: string) => void;
}

type Filter = (name: string) => boolean;

/** Directory → which names in it matter. */
export function watchTargets(paths: readonly string[]): Map<string, Filter[]> {
  const targets = new Map<string, Filter[]>();
  const add = (dir: string, filter: Filter): void => {
    const list = targets.get(dir) ?? [];
    list.push(filter);
    targets.set(dir, list);
  };
  for (const path of paths) {
    const full = resolve(path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // a missing file may appear later: watch where it would be
    }
    if (isDir) add(full, isYamlName);
    else {
      const name = basename(full);
      add(dirname(full), (changed) => changed === name);
    }
  }
  return targets;
}

export class ConfigWatcher {
  readonly #options: WatchOptions;
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(paths: readonly string[], options: WatchOptions) {
    this.#options = options;
    for (const [dir, filters] of watchTargets(paths)) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          // no name (rare, platform-dependent): reload to be safe
          if (name === null || filters.some((matches) => matches(name.toString()))) this.#poke();
        });
        watcher.on('error', (error) => options.onError(`watching ${dir} failed: ${error.message}`));
        this.#watchers.push(watcher);
      } catch (error) {
        options.onError(`cannot watch ${dir}: ${(error as Error).message}; changes there are not picked up`);
      }
    }
  }

  get watching(): number {
    return this.#watchers.length;
  }

  #poke(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#closed) this.#options.onChange();
    }, this.#options.debounceMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers) watcher.close();
  }
}
