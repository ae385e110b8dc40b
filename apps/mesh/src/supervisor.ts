// Runs each mesh process (control plane, ztunnels, waypoints) as a child, the way they run for real: its
// JSON log lines are handed to the runner, a crash is reported and the process restarted with backoff
// (1 s doubling to 30 s), and stop() drains them with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { inheritedEnvironment } from './config.ts';

export type ProcessState =
  | { state: 'starting' }
  | { state: 'running'; pid: number; since: number }
  | { state: 'restarting'; exitCode: number | null; inMs: number; restarts: number }
  | { state: 'stopped' };

export interface ProcessSpec {
  /** e.g. `ztunnel node-a` */
  role: string;
  script: string;
  args?: string[];
  /** Extra Node flags, e.g. a smaller young generation for the proxies (fewer latency spikes). */
  nodeArgs?: string[];
  env: Record<string, string>;
  /** Run inside this network namespace (`ip netns exec`, which execs the program: signals reach it). */
  namespace?: string;
  /** Called with the pid of every process started (first start and restarts). */
  onSpawn?: (pid: number) => void;
  /** A log line that means "up" (checked against the JSON `message`). */
  readyWhen: (line: Record<string, unknown>) => boolean;
}

export class Supervised {
  readonly spec: ProcessSpec;
  state: ProcessState = { state: 'starting' };
  restarts = 0;
  lastError: string | undefined;
  readonly #onLine: (role: string, line: Record<string, unknown>) => void;
  readonly #onEvent: (role: string, text: string) => void;
  #child: ChildProcess | undefined;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #ready: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(
    spec: ProcessSpec,
    onLine: (role: string, line: Record<string, unknown>) => void,
    onEvent: (role: string, text: string) => void,
  ) {
    this.spec = spec;
    this.#onLine = onLine;
    this.#onEvent = onEvent;
  }

  /** Start and resolve once its ready line is seen (rejects if it exits first). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ready = { resolve, reject };
      this.#spawn();
    });
  }

  #spawn(): void {
    const argv = [
      process.execPath,
      ...(this.spec.nodeArgs ?? []),
      '--conditions=ambient-ts-source',
      this.spec.script,
      ...(this.spec.args ?? []),
    ];
    if (this.spec.namespace) argv.unshift('ip', 'netns', 'exec', this.spec.namespace);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...inheritedEnvironment(), LOG_FORMAT: 'json', ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.state = { state: 'starting' };
    if (child.pid !== undefined) this.spec.onSpawn?.(child.pid);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { message: text };
      }
      if (this.state.state === 'starting' && this.spec.readyWhen(line)) {
        this.state = { state: 'running', pid: child.pid!, since: Date.now() };
        this.#ready?.resolve();
        this.#ready = undefined;
      }
      this.#onLine(this.spec.role, line);
    });
    child.once('exit', (code) => {
      if (this.#stopping) {
        this.state = { state: 'stopped' };
        return;
      }
      const reason = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit code ${code}`;
      this.lastError = reason;
      if (this.#ready) {
        this.#ready.reject(new Error(`${this.spec.role} failed to start: ${reason}`));
        this.#ready = undefined;
        this.state = { state: 'stopped' };
        return;
      }
      this.restarts += 1;
      const inMs = Math.min(30_000, 1000 * 2 ** (this.restarts - 1));
      this.state = { state: 'restarting', exitCode: code, inMs, restarts: this.restarts };
      this.#onEvent(this.spec.role, `exited (${reason}); restarting in ${inMs / 1000} s`);
      this.#timer = setTimeout(() => this.#spawn(), inMs);
    });
  }

  /** SIGTERM (the process drains), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.state = { state: 'stopped' };
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.state = { state: 'stopped' };
  }

  /** The running child's pid (undefined when none runs). */
  get pid(): number | undefined {
    const child = this.#child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** Kill without draining (used by tests of the restart path). */
  crash(): void {
    this.#child?.kill('SIGKILL');
  }
}
