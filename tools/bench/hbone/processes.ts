// Child processes of the bench: each runs roles.ts with --expose-gc and talks over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Child {
  info: Record<string, unknown>;
  pid: number;
  request(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

const rolesFile = join(import.meta.dirname, 'roles.ts');

/** Start a role and wait for its READY line. */
export function spawnRole(role: string, config: Record<string, unknown>, all: Child[]): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--conditions=ambient-ts-source', rolesFile, role, JSON.stringify(config)],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const handle: Child = {
    info: {},
    pid: child.pid!,
    request: (message) =>
      new Promise((resolve) => {
        child.once('message', (reply) => resolve(reply as Record<string, unknown>));
        child.send(message);
      }),
    kill: (signal) => {
      if (child.exitCode === null) child.kill(signal);
    },
  };
  all.push(handle);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      handle.info = JSON.parse(line.slice(6)) as Record<string, unknown>;
      resolve(handle);
    });
    child.once('exit', (code) => reject(new Error(`bench role ${role} exited with ${code} before READY`)));
  });
}

/** One rate measurement: a fresh server role and a rate role against it. */
export async function rateRun(
  serverRole: string,
  rateRole: string,
  config: Record<string, unknown>,
): Promise<Record<string, number>> {
  const all: Child[] = [];
  try {
    const server = await spawnRole(serverRole, config, all);
    const result = await spawnRole(rateRole, { ...config, server: server.info, serverPid: server.pid }, all);
    return result.info as Record<string, number>;
  } finally {
    for (const child of all) child.kill();
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
