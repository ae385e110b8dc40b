// End to end: `npm start -- --once` brings up the whole local mesh from examples/mesh.yaml (control plane,
// two ztunnels, the waypoint, sample workloads) and every demonstrated behaviour holds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('npm start -- --once: every behaviour line passes', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
  const main = join(import.meta.dirname, '../src/main.ts');
  const child = spawn(process.execPath, ['--conditions=ambient-ts-source', main, '--once', '--state-dir', stateDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  rmSync(stateDir, { recursive: true, force: true });
  const lines = out.split('\n');
  const behaviour = (prefix: string) => lines.find((line) => line.includes(prefix)) ?? `(missing: ${prefix})\n${out}`;
  expect(behaviour('mesh → mesh over HBONE')).toMatch(
    /^PASS .*spiffe:\/\/cluster.local\/ns\/default\/sa\/client → spiffe:\/\/cluster.local\/ns\/default\/sa\/echo/,
  );
  expect(behaviour('out-of-mesh client')).toMatch(/^PASS .*no identity/);
  expect(behaviour('L4 DENY refuses blocked-client')).toMatch(/^PASS .*explicitly denied by: default\/deny-blocked/);
  expect(behaviour('HTTPRoute sends echo traffic to echo-v1')).toMatch(/^PASS .*served by echo-v1×\d+$/);
  expect(behaviour('JWT on /secure')).toMatch(/^PASS .*no token HTTP 403, invalid HTTP 401, valid HTTP 200/);
  expect(out).toContain('all 5 behaviours hold');
  expect(code).toBe(0);
});
