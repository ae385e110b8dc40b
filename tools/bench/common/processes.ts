// Process plumbing every bench shares: role children over IPC (each bench has a roles.ts that prints
// `READY <json>` and answers one IPC message per request), CPU and memory from /proc (Linux), how busy the
// rest of the machine is, and free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { formatHostPort } from '@ambient-ts/addresses';

export interface Role {
  pid: number;
  info: Record<string, unknown>;
  /** One command at a time: the next IPC message is its answer (`{ error }` rejects). */
  request<T = Record<string, unknown>>(message: Record<string, unknown>): Promise<T>;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the child is gone. */
  stop(): Promise<void>;
  /** A signal now, if the child still runs. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Node flags before the script, e.g. `--expose-gc`. */
  readonly nodeArgs?: readonly string[];
  /** Every started role is pushed here, so a bench can stop them all at the end. */
  readonly track?: Role[];
  /**
   * Run the role inside this network namespace (`ip netns exec <namespace>`, which execs Node: the pid is the
   * role's own and the IPC channel is inherited). Linux and root only.
   */
  readonly namespace?: string;
}

/** Start `<rolesFile> <role> <config json>` and wait for its `READY <json>` line. */
export function spawnRole(
  rolesFile: string,
  role: string,
  config: Record<string, unknown>,
  options: SpawnOptions = {},
): Promise<Role> {
  const argv = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    '--conditions=ambient-ts-source',
    rolesFile,
    role,
    JSON.stringify(config),
  ];
  const [file, ...args] = options.namespace ? ['ip', 'netns', 'exec', options.namespace, ...argv] : argv;
  const child: ChildProcess = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const handle: Role = {
    pid: child.pid!,
    info: {},
    request: (message) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null): void => reject(new Error(`bench role ${role} exited with ${code}`));
        child.once('exit', onExit);
        child.once('message', (reply) => {
          child.off('exit', onExit);
          const answer = reply as Record<string, unknown>;
          if (typeof answer['error'] === 'string') reject(new Error(`${role}: ${answer['error']}`));
          else resolve(answer as never);
        });
        child.send(message);
      }),
    stop: () => stopChild(child),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  options.track?.push(handle);
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

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident set now and its peak (VmHWM), in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/**
 * Busy CPU seconds of the whole machine so far (all cores, from /proc/stat): user, nice, system and
 * steal. Interrupt time is left out: loopback traffic is processed in softirq context and charged to
 * no process, so it would count our own traffic as someone else's load.
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + steal!) / 100;
}

/**
 * A window over which we learn how many cores processes other than ours kept busy: the machine's busy
 * time minus our processes' CPU time, per wall-clock second.
 */
export function otherLoad(ours: () => number[]): () => number {
  const pids = ours();
  const start = performance.now();
  const busy0 = machineBusySeconds();
  const mine0 = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const mine = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - mine0;
    return Math.max(0, (machineBusySeconds() - busy0 - mine) / seconds);
  };
}

/** Wait (up to `maxMs`) until other processes keep less than `cores` busy over one second; the load seen. */
export async function waitQuiet(ours: () => number[], cores: number, maxMs: number): Promise<number> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const window = otherLoad(ours);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = window();
    if (busy < cores || performance.now() >= deadline) return busy;
  }
}

/**
 * Resolves once every port accepts TCP connections on `host` (a started server is up); throws after ~10 s.
 * With `namespace`, the connections are tried from inside that network namespace (a Node child under
 * `ip netns exec`).
 */
export async function waitListening(ports: readonly number[], host = '127.0.0.1', namespace?: string): Promise<void> {
  if (namespace) return waitListeningIn(namespace, ports, host);
  for (const port of ports) {
    for (let attempt = 0; ; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect({ host, port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (ok) break;
      if (attempt > 200) throw new Error(`nothing is listening on ${formatHostPort(host, port)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A port that was free a moment ago on `host`. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const WAIT_LISTENING = `
const net = require('node:net');
const [host, ...ports] = process.argv.slice(1);
const deadline = Date.now() + 10_000;
const tryPort = (port) => new Promise((resolve) => {
  const socket = net.connect({ host, port: Number(port) });
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});
(async () => {
  for (const port of ports) {
    while (!(await tryPort(port))) {
      if (Date.now() > deadline) { console.error('nothing is listening on ' + host + ':' + port); process.exit(1); }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
})();
`;

function waitListeningIn(namespace: string, ports: readonly number[], host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', namespace, process.execPath, '-e', WAIT_LISTENING, host, ...ports.map(String)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`in ${namespace}: ${stderr.trim() || `exit ${code}`}`)),
    );
  });
}
