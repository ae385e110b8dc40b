// Throwaway network namespaces for the root-only tests: `ip netns add ambient-test-<random>`, loopback up,
// an fd of it, and `ip netns exec` for commands inside. Every namespace made here is deleted by cleanup().
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { netnsSupport } from '../src/index.ts';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const isRoot = process.getuid?.() === 0;
const support = netnsSupport();
export const addonAvailable = support.available;
export const hasIptables = has('iptables') && has('ip6tables');
/** Why the root tier cannot run here ('' when it can): shown in the skipped suite's title. */
export const rootTierMissing = !isRoot
  ? 'needs root'
  : !has('ip')
    ? 'needs iproute2 (ip)'
    : !support.available
      ? `needs the native addon (${support.reason})`
      : '';

export interface TestNamespace {
  name: string;
  /** An open fd of /var/run/netns/<name>. */
  fd: number;
  /** Runs a setup command inside the namespace (ip netns exec), synchronously; returns its stdout. */
  run(command: string, args: readonly string[]): string;
  /**
   * Runs a client inside the namespace without blocking this process's event loop (its servers must keep
   * answering); resolves with stdout.
   */
  exec(command: string, args: readonly string[]): Promise<string>;
}

const made: TestNamespace[] = [];

export function createNamespace(): TestNamespace {
  const name = `ambient-test-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const ns: TestNamespace = {
    name,
    fd: openSync(`/var/run/netns/${name}`, 'r'),
    run: (command, args) =>
      execFileSync('ip', ['netns', 'exec', name, command, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    exec: (command, args) =>
      new Promise((resolve, reject) => {
        execFile('ip', ['netns', 'exec', name, command, ...args], { timeout: 10_000 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        );
      }),
  };
  made.push(ns);
  ns.run('ip', ['link', 'set', 'lo', 'up']);
  return ns;
}

export function cleanupNamespaces(): void {
  for (const ns of made.splice(0)) {
    try {
      closeSync(ns.fd);
    } catch {
      // already closed by a test
    }
    try {
      execFileSync('ip', ['netns', 'del', ns.name], { stdio: 'ignore' });
    } catch {
      // best effort: `ip netns list | grep ambient-test-` shows leftovers
    }
  }
}
