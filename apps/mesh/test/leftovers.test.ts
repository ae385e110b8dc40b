// A runner killed without stop() leaves its children running; the next start stops exactly those.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { recordProcesses, stopLeftovers } from '../src/leftovers.ts';

const children: ChildProcess[] = [];
let dir = '';
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function idle(script: string): ChildProcess {
  writeFileSync(script, 'setInterval(() => {}, 1000);\n');
  const child = spawn(process.execPath, [script], { stdio: 'ignore' });
  children.push(child);
  return child;
}

it.skipIf(process.platform !== 'linux')(
  'stops the recorded processes that still run their script, and no other',
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-leftovers-'));
    const ztunnel = idle(join(dir, 'ztunnel.js'));
    const unrelated = idle(join(dir, 'unrelated.js'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    recordProcesses(dir, [
      { pid: ztunnel.pid!, role: 'ztunnel node-a', script: join(dir, 'ztunnel.js') },
      // a reused pid: the process there runs something else now
      { pid: unrelated.pid!, role: 'waypoint default/waypoint', script: join(dir, 'waypoint.js') },
      { pid: 999_999_999, role: 'controlplane', script: join(dir, 'controlplane.js') },
    ]);
    const exited = once(ztunnel, 'exit');
    expect(stopLeftovers(dir)).toEqual([`ztunnel node-a (pid ${ztunnel.pid})`]);
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(unrelated.exitCode).toBeNull();
    expect(unrelated.signalCode).toBeNull();
    expect(existsSync(join(dir, 'processes.json'))).toBe(false);
    expect(stopLeftovers(dir)).toEqual([]);
  },
);
