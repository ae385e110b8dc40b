// The `hbone` command, run from source as a child process: serve (echo, forward) and connect.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';
import { eventually, onCleanup, startTcp } from './fixtures.ts';

const cli = join(import.meta.dirname, '../src/cli.ts');
const SERVER = 'spiffe://cluster.local/ns/server/sa/echo';
const CLIENT = 'spiffe://cluster.local/ns/client/sa/app';

/** Root → intermediate → leaves, written the way certgen's CLI writes them (leaf + intermediate). */
function writeCerts(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hbone-cli-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const root = createCa({ commonName: 'cli root' });
  const intermediate = createCa({ commonName: 'cli intermediate', issuer: root });
  writeFileSync(join(dir, 'root.pem'), root.certPem);
  for (const [name, id] of [
    ['server', SERVER],
    ['client', CLIENT],
  ]) {
    const leaf = createLeaf({ issuer: intermediate, uris: [id!] });
    writeFileSync(join(dir, `${name}.pem`), leaf.certPem + intermediate.certPem);
    writeFileSync(join(dir, `${name}-key.pem`), leaf.keyPem);
  }
  return dir;
}

function run(
  args: string[],
  input?: string,
): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--conditions=ambient-ts-source', cli, ...args], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  if (input !== undefined) child.stdin!.end(input);
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  return { child, done };
}

async function serve(dir: string, mode: '--echo' | '--forward'): Promise<number> {
  let stderr = '';
  const child = spawn(
    process.execPath,
    [
      '--conditions=ambient-ts-source',
      cli,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--cert',
      join(dir, 'server.pem'),
      '--key',
      join(dir, 'server-key.pem'),
      '--ca',
      join(dir, 'root.pem'),
      mode,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  onCleanup(() => void child.kill());
  await eventually(() => /listening on 127\.0\.0\.1:\d+/.test(stderr), 'hbone serve to listen', 15_000);
  return Number(/listening on 127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
}

function connectArgs(dir: string, port: number, authority: string, extra: string[] = []): string[] {
  return [
    'connect',
    '--to',
    `127.0.0.1:${port}`,
    '--authority',
    authority,
    '--cert',
    join(dir, 'client.pem'),
    '--key',
    join(dir, 'client-key.pem'),
    '--ca',
    join(dir, 'root.pem'),
    ...extra,
  ];
}

describe('hbone CLI', () => {
  it('--help documents both commands', async () => {
    const { code, stdout } = await run(['--help']).done;
    expect(code).toBe(0);
    expect(stdout).toContain('hbone serve');
    expect(stdout).toContain('hbone connect');
    expect(stdout).toContain('--expect-identity');
  });

  it('serve --echo and connect pipe stdin to stdout through a tunnel (certificates with an intermediate)', async () => {
    const dir = writeCerts();
    const port = await serve(dir, '--echo');
    const result = await run(
      connectArgs(dir, port, '10.0.0.1:80', ['--expect-identity', SERVER]),
      'hello through hbone',
    ).done;
    expect(result.stdout).toBe('hello through hbone');
    expect(result.code).toBe(0);
  });

  it('serve --forward dials the authority; a refused CONNECT exits 1 and names the HTTP status', async () => {
    const dir = writeCerts();
    const { port: backend } = await startTcp((socket) => {
      socket.on('data', (chunk: Buffer) => socket.end(`backend got ${chunk.length} bytes`));
    });
    const port = await serve(dir, '--forward');
    const ok = await run(connectArgs(dir, port, `127.0.0.1:${backend}`), 'abc').done;
    expect(ok.stdout).toBe('backend got 3 bytes');
    expect(ok.stderr).toContain(`connected to ${SERVER}`);
    const { server, port: closedPort } = await startTcp(() => {});
    server.close();
    const refused = await run(connectArgs(dir, port, `127.0.0.1:${closedPort}`), 'abc').done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 503');
  });

  it('connect exits 1 when the server identity is not the expected one, 2 on usage errors', async () => {
    const dir = writeCerts();
    const port = await serve(dir, '--echo');
    const wrong = await run(
      connectArgs(dir, port, '10.0.0.1:80', ['--expect-identity', 'spiffe://cluster.local/ns/x/sa/y']),
      'x',
    ).done;
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('PEER_IDENTITY_MISMATCH');
    const usage = await run(['connect', '--to', '127.0.0.1:1']).done;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('missing --authority');
  });
});
