// `controlplane serve` as a process: the start-up summary, a clean exit on SIGTERM, and the port-in-use
// message on stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const cli = join(repo, 'apps/controlplane/src/cli.ts');

let dir: string | undefined;
let child: ChildProcess | undefined;
let blocker: Server | undefined;
afterEach(async () => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  if (blocker !== undefined) await new Promise((r) => blocker!.close(r));
  blocker = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function serve(args: string[]): Run {
  dir = mkdtempSync(join(tmpdir(), 'controlplane-serve-cli-'));
  child = spawn(
    process.execPath,
    ['--conditions=ambient-ts-source', cli, 'serve', '--state-dir', join(dir, 'state'), ...args, 'examples/mesh.yaml'],
    { cwd: repo },
  );
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((done) => child!.on('close', (code) => done(code))),
  };
  child.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return run;
}

async function until(run: Run, text: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!run.stdout.includes(text)) {
    if (run.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`no "${text}" in output:\n${run.stdout}\n${run.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('controlplane serve (process)', () => {
  it('prints where to connect and what it serves, and closes cleanly on SIGTERM', async () => {
    const run = serve(['--xds-plaintext-port=0', '--xds-tls-port=0']);
    await until(run, 'watching the YAML');
    expect(run.stdout).toMatch(/xDS \+ CA plaintext {2}http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(
      /xDS \+ CA TLS {8}https:\/\/127\.0\.0\.1:\d+ {2}\(certificate for istiod\.istio-system\.svc/,
    );
    expect(run.stdout).toContain('CA root created');
    expect(run.stdout).toContain('node tokens         node-a, node-b');
    expect(run.stdout).toContain('translated: 6 workloads, 3 services, 1 authorization');
    expect(existsSync(join(dir!, 'state/controlplane.json'))).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout).toContain('control plane stopped');
    expect(existsSync(join(dir!, 'state/controlplane.json'))).toBe(false);
  });

  it('exits 1 naming the port and its role when the TLS port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const run = serve(['--xds-plaintext-port=0', `--xds-tls-port=${port}`]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(`controlplane serve: xDS/CA TLS port ${port} is already in use by another process`);
  });

  it('exits 2 on a bad flag value', async () => {
    const run = serve(['--xds-tls-port=http']);
    expect(await run.exited).toBe(2);
    expect(run.stderr).toContain('--xds-tls-port "http" is not a port');
  });
});
