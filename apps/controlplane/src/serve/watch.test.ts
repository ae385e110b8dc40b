import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expandInputs } from './config-source.ts';
import { ConfigWatcher, watchTargets } from './watch.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function temp(): string {
  dir = mkdtempSync(join(tmpdir(), 'watch-'));
  return dir;
}

describe('what is watched', () => {
  it('a file through its directory (by name), a directory for its visible *.yaml / *.yml files', () => {
    const root = temp();
    mkdirSync(join(root, 'conf.d'));
    writeFileSync(join(root, 'mesh.yaml'), '');
    const targets = watchTargets([join(root, 'mesh.yaml'), join(root, 'conf.d'), join(root, 'later.yaml')]);
    expect([...targets.keys()]).toEqual([root, join(root, 'conf.d')]);
    const fileFilters = targets.get(root)!;
    const matches = (filters: typeof fileFilters, name: string): boolean => filters.some((f) => f(name));
    expect(matches(fileFilters, 'mesh.yaml')).toBe(true);
    expect(matches(fileFilters, 'later.yaml')).toBe(true);
    expect(matches(fileFilters, '.mesh.yaml.swp')).toBe(false);
    expect(matches(fileFilters, 'mesh.yaml~')).toBe(false);
    const dirFilters = targets.get(join(root, 'conf.d'))!;
    expect(['a.yaml', 'b.YML', '.hidden.yaml', 'notes.txt', '4913'].filter((n) => matches(dirFilters, n))).toEqual([
      'a.yaml',
      'b.YML',
    ]);
  });

  it('expands a directory to its YAML files in name order and keeps files as given', async () => {
    const root = temp();
    mkdirSync(join(root, 'd'));
    for (const name of ['b.yml', 'a.yaml', '.x.yaml', 'c.txt']) writeFileSync(join(root, 'd', name), '');
    expect(await expandInputs([join(root, 'd'), join(root, 'missing.yaml')])).toEqual([
      join(root, 'd', 'a.yaml'),
      join(root, 'd', 'b.yml'),
      join(root, 'missing.yaml'),
    ]);
  });
});

describe('ConfigWatcher', () => {
  it('reports a save by rename over the file', async () => {
    const root = temp();
    const file = join(root, 'mesh.yaml');
    writeFileSync(file, 'a: 1\n');
    let changes = 0;
    const watcher = new ConfigWatcher([file], { debounceMs: 10, onChange: () => changes++, onError: () => {} });
    try {
      expect(watcher.watching).toBe(1);
      for (let i = 0; i < 3; i++) {
        const seen = changes;
        writeFileSync(join(root, '.mesh.yaml.tmp'), `a: ${i}\n`);
        renameSync(join(root, '.mesh.yaml.tmp'), file);
        const deadline = Date.now() + 10_000;
        while (changes === seen) {
          if (Date.now() > deadline) throw new Error(`save ${i} was not noticed`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    } finally {
      watcher.close();
    }
  });
});
