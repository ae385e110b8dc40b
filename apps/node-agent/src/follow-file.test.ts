import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileFollower } from './follow-file.ts';

const dirs: string[] = [];
const followers: FileFollower[] = [];
afterEach(() => {
  for (const follower of followers.splice(0)) follower.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(pollMs = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), 'follow-'));
  dirs.push(dir);
  const path = join(dir, 'pods.yaml');
  writeFileSync(path, 'a');
  let changes = 0;
  const follower = new FileFollower(path, { debounceMs: 50, pollMs, onChange: async () => void changes++ });
  followers.push(follower);
  return { path, follower, changes: () => changes };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('FileFollower', () => {
  it('reports a burst of writes and a write-and-rename once each (debounced watch)', async () => {
    const { path, follower, changes } = setup();
    await follower.start();
    writeFileSync(path, 'b');
    writeFileSync(path, 'bb');
    writeFileSync(path, 'bbb');
    await sleep(300);
    expect(changes()).toBe(1);
    writeFileSync(`${path}.tmp`, 'c');
    renameSync(`${path}.tmp`, path);
    await sleep(300);
    expect(changes()).toBe(2);
  });

  it('a change made after the caller read the file but before start() is found by the stat fallback; one edit is one report', async () => {
    const { path, follower, changes } = setup(100);
    const signature = await FileFollower.signature(path);
    writeFileSync(path, 'changed meanwhile');
    await follower.start(signature);
    await sleep(400);
    expect(changes()).toBe(1);
    await sleep(300); // nothing new: no more reports
    expect(changes()).toBe(1);
    // With both the watch and a fast poll running, one edit is still one report.
    writeFileSync(`${path}.tmp`, 'edited');
    renameSync(`${path}.tmp`, path);
    await sleep(400);
    expect(changes()).toBe(2);
  });
});
