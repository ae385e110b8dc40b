// Our ztunnel's real ZDS client (apps/ztunnel/src/inpod/zds-client.ts) as the agent's peer, with a recording
// PodRegistry. Apps may not import each other (nx module boundaries), so it runs the way ztunnel itself would: in
// its own Node process, started from ztunnel's source; every registry call comes back as a JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ZTUNNEL_INPOD = join(import.meta.dirname, '../../ztunnel/src/inpod');

export type RegistryCall =
  | {
      op: 'add';
      uid: string;
      info: { name: string; namespace: string; serviceAccount: string };
      netnsId: { dev: number; ino: number };
      failed?: true;
    }
  | { op: 'del'; uid: string }
  | { op: 'reconcile'; kept: string[] }
  | { op: 'state'; state: string };

const SCRIPT = `
import { closeSync } from 'node:fs';
const [uds, clientUrl, transportUrl, failingJson] = process.argv.slice(1);
const { ZdsClient } = await import(clientUrl);
const { loadZdsTransport } = await import(transportUrl);
const failing = new Map(Object.entries(JSON.parse(failingJson)));
const out = (record) => process.stdout.write(JSON.stringify(record) + '\\n');
const owned = new Map();
const release = (uid) => { if (owned.has(uid)) { closeSync(owned.get(uid)); owned.delete(uid); } };
const registry = {
  async add(uid, info, fd, netnsId) {
    const failures = failing.get(uid) ?? 0;
    if (failures > 0) {
      failing.set(uid, failures - 1);
      out({ op: 'add', uid, info, netnsId, failed: true });
      throw new Error('bind 0.0.0.0:15008 in the pod: EADDRINUSE');
    }
    out({ op: 'add', uid, info, netnsId });
    release(uid);
    owned.set(uid, fd);
  },
  del(uid) { out({ op: 'del', uid }); release(uid); },
  reconcile(kept) { out({ op: 'reconcile', kept: [...kept].sort() }); for (const uid of [...owned.keys()]) if (!kept.has(uid)) release(uid); },
};
const client = new ZdsClient({
  path: uds,
  registry,
  transport: await loadZdsTransport(),
  retryIntervalMs: 600000, // the agent's re-sends are under test, not ztunnel's own retries
  backoff: { initialMs: 20, maxMs: 200 },
  onStateChange: (state) => out({ op: 'state', state: state.state }),
});
client.start();
process.on('SIGTERM', async () => { await client.close(); process.exit(0); });
`;

export class ZtunnelZds {
  readonly child: ChildProcess;
  #out = '';
  #err = '';
  readonly exited: Promise<number | null>;

  constructor(uds: string, options: { failing?: Record<string, number> } = {}) {
    this.child = spawn(
      process.execPath,
      [
        '--conditions=ambient-ts-source',
        '--input-type=module',
        '-e',
        SCRIPT,
        uds,
        pathToFileURL(join(ZTUNNEL_INPOD, 'zds-client.ts')).href,
        pathToFileURL(join(ZTUNNEL_INPOD, 'transport.ts')).href,
        JSON.stringify(options.failing ?? {}),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.#out += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#err += chunk));
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
  }

  /** Registry calls (and client states) so far, in order. */
  calls(): RegistryCall[] {
    return this.#out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as RegistryCall);
  }

  /** Registry calls only (no states), shortened to `add <uid>`, `add! <uid>` (failed), `del <uid>`, `reconcile a,b`. */
  ops(): string[] {
    return this.calls().flatMap((call) =>
      call.op === 'state'
        ? []
        : call.op === 'reconcile'
          ? [`reconcile ${call.kept.join(',')}`]
          : [`${call.op}${call.op === 'add' && call.failed ? '!' : ''} ${call.uid}`],
    );
  }

  /** Waits until `ops()` has at least `count` entries (or predicate holds), then returns them. */
  async waitFor(check: number | ((ops: string[]) => boolean), timeoutMs = 15_000): Promise<string[]> {
    const done = typeof check === 'number' ? (ops: string[]) => ops.length >= check : check;
    const deadline = Date.now() + timeoutMs;
    while (!done(this.ops())) {
      if (Date.now() > deadline)
        throw new Error(
          `ztunnel's ZDS client: ${JSON.stringify(this.ops())} after ${timeoutMs} ms; stderr: ${this.#err}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return this.ops();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
