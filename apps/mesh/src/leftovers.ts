// The runner's child processes, recorded in the state dir while they run, so that a runner that was killed
// (kill -9, a crash the exit hook could not handle) does not leave its control plane, ztunnels, node agents or
// waypoints holding ports and sockets: the next start stops every recorded process that still runs the same
// program. (In netns mode the namespaces of such a run are swept by netns-topology's sweeper.)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordedProcess {
  pid: number;
  role: string;
  script: string;
}

const FILE = 'processes.json';

export function recordProcesses(stateDir: string, processes: readonly RecordedProcess[]): void {
  writeFileSync(join(stateDir, FILE), `${JSON.stringify(processes, null, 2)}\n`);
}

export function forgetProcesses(stateDir: string): void {
  rmSync(join(stateDir, FILE), { force: true });
}

/** Kills (SIGKILL) the recorded processes of an earlier run that still run their script; returns their roles. */
export function stopLeftovers(stateDir: string): string[] {
  let recorded: RecordedProcess[];
  try {
    recorded = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8')) as RecordedProcess[];
  } catch {
    return [];
  }
  const stopped: string[] = [];
  for (const { pid, role, script } of Array.isArray(recorded) ? recorded : []) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone (or not Linux: nothing to check against, leave it)
    }
    if (pid === process.pid || !cmdline.split('\0').includes(script)) continue; // the pid was reused
    try {
      process.kill(pid, 'SIGKILL');
      stopped.push(`${role} (pid ${pid})`);
    } catch {
      // exited meanwhile
    }
  }
  forgetProcesses(stateDir);
  return stopped;
}
