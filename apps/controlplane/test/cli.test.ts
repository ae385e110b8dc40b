// `controlplane validate` as a user runs it: a real process, its output and exit status.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../..');
const cli = join(repo, 'apps/controlplane/src/cli.ts');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=ambient-ts-source', cli, ...args], { cwd: repo });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tempFile(name: string, text: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'controlplane-cli-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('controlplane validate', () => {
  it('accepts examples/mesh.yaml: no errors, counts of what translated, exit 0', async () => {
    const { code, stdout, stderr } = await run(['validate', 'examples/mesh.yaml']);
    expect(stderr).toBe('');
    expect(stdout).toContain(
      'translated: 6 workloads, 3 services, 1 authorization for ztunnel; 4 objects for waypoints',
    );
    expect(stdout).toContain('nodes: node-a (3 identities), node-b (3 identities)');
    expect(stdout).toMatch(/result: 0 errors/);
    expect(code).toBe(0);
  });

  it('reports every problem of a broken file as file:line: Kind ns/name and exits 1', async () => {
    const file = tempFile(
      'broken.yaml',
      `kind: Pod
metadata: {name: ok}
spec: {nodeName: node-a}
status: {podIP: 127.0.1.1}
---
kind: Pod
metadata:
  name: bad
spec: {nodeName: node-a}
status:
  podIP: 999.0.0.1
---
kind: Service
metadata: {name: svc}
spec: {clusterIP: 127.10.0.1, selector: {app: nobody}, ports: [{port: 80}]}
---
kind: Pod
metadata: {name: [broken
`,
    );
    const { code, stdout } = await run(['validate', file]);
    const lines = stdout.trim().split('\n');
    expect(lines).toContain(`${file}:11: Pod default/bad: error: status.podIP: "999.0.0.1" is not an IP address`);
    expect(lines).toContain(
      `${file}:15: Service default/svc: warning: spec.selector: selects no pod: the Service has no endpoints`,
    );
    expect(lines.filter((l) => /:1[89]: error: YAML syntax/.test(l))).toHaveLength(1);
    expect(stdout).toContain(
      'translated: 1 workload, 1 service, 0 authorizations for ztunnel; 0 objects for waypoints',
    );
    expect(stdout).toContain('result: 2 errors, 1 warning');
    expect(code).toBe(1);
  });

  it('reports an unreadable file as an error and usage mistakes with status 2', async () => {
    const missing = await run(['validate', 'does/not/exist.yaml']);
    expect(missing.stdout).toContain('does/not/exist.yaml:1: error: cannot read the file (ENOENT)');
    expect(missing.code).toBe(1);
    const noFiles = await run(['validate']);
    expect(noFiles.stderr).toContain('validate needs at least one YAML file');
    expect(noFiles.code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.code).toBe(2);
  });
});
