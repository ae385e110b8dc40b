// Running Debian's tools, and programs inside a network namespace (`ip netns exec`), from TypeScript.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Killed (SIGKILL) and rejected after this long. Default 30 s. */
  timeoutMs?: number;
}

/** A command that exited non-zero (or could not start); carries the argv, exit code and stderr. */
export class CommandError extends Error {
  readonly code = 'NETNS_COMMAND_FAILED';
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number | null, stderr: string) {
    super(`\`${argv.join(' ')}\` failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no stderr)'}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Runs argv (no shell) and resolves with its output, rejecting with a CommandError when it fails. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TypeError('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs ?? 30_000} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, error.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(argv, code, stderr));
    });
    child.stdin.on('error', () => undefined); // a command that exits before reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Runs argv inside the named network namespace (`ip netns exec <namespace> ...`). */
export function exec(namespace: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', namespace, ...argv], options);
}

/** A long-lived process started inside a namespace. */
export interface NamespacedProcess {
  readonly namespace: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching pattern (rejects if the process exits first or on timeout). */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once it has exited (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs (default 2 s); resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts argv inside the namespace (`ip netns exec` execs it, so the pid is the program's own). */
export function start(namespace: string, argv: readonly string[]): NamespacedProcess {
  const child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const check of waiters) check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      exitCode = code;
      for (const check of waiters) check();
      resolve(code);
    });
    child.on('error', (error) => {
      err += error.message;
    });
  });
  const lineMatching = (pattern: string | RegExp): string | undefined =>
    out
      .split('\n')
      .slice(0, -1) // only complete lines
      .find((line) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
  return {
    namespace,
    pid: child.pid ?? -1,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = lineMatching(pattern);
          if (line !== undefined) finish(() => resolve(line));
          else if (exitCode !== undefined)
            finish(() =>
              reject(
                new Error(
                  `${argv.join(' ')} in ${namespace} exited (${exitCode}) before printing ${String(pattern)}: ${err.trim()}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `${argv.join(' ')} in ${namespace} printed no ${String(pattern)} within ${timeoutMs} ms; stdout: ${out.trim()} stderr: ${err.trim()}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 2_000) {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
