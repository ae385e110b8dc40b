// End to end: `npm start -- --once` brings up the whole local mesh from examples/mesh.yaml (control plane,
// two ztunnels, the waypoint, sample workloads) and every demonstrated behaviour holds — in loopback mode
// everywhere, and in netns mode (pods as network namespaces, in-pod capture) where it can run (root on Linux).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netnsMissing } from '../src/mode.ts';

async function runOnce(mode: 'loopback' | 'netns'): Promise<{ out: string; code: number | null }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
  const main = join(import.meta.dirname, '../src/main.ts');
  const child = spawn(
    process.execPath,
    ['--conditions=ambient-ts-source', main, '--once', '--mode', mode, '--state-dir', stateDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  rmSync(stateDir, { recursive: true, force: true });
  return { out, code };
}

function expectEveryBehaviour(out: string, code: number | null): void {
  const lines = out.split('\n');
  const behaviour = (prefix: string) => lines.find((line) => line.includes(prefix)) ?? `(missing: ${prefix})\n${out}`;
  expect(behaviour('mesh → mesh over HBONE')).toMatch(
    /^PASS .*spiffe:\/\/cluster.local\/ns\/default\/sa\/client → spiffe:\/\/cluster.local\/ns\/default\/sa\/echo/,
  );
  expect(behaviour('out-of-mesh client')).toMatch(/^PASS .*no identity/);
  expect(behaviour('L4 DENY refuses blocked-client')).toMatch(/^PASS .*explicitly denied by: default\/deny-blocked/);
  expect(behaviour('HTTPRoute sends echo traffic to echo-v1')).toMatch(/^PASS .*served by echo-v1×\d+$/);
  expect(behaviour('JWT on /secure')).toMatch(/^PASS .*no token HTTP 403, invalid HTTP 401, valid HTTP 200/);
  // resolved through the client's ztunnel DNS proxy to the echo Service's VIP, then reached
  expect(behaviour('DNS: client resolves echo by name')).toMatch(
    /^PASS .*: echo → (\d+\.\d+\.\d+\.\d+), echo\.default\.svc\.cluster\.local → \1 \(.*\); GET → HTTP 200 from echo-v1$/,
  );
  expect(out).toContain('all 6 behaviours hold');
  expect(code).toBe(0);
}

it('npm start -- --once --mode loopback: every behaviour line passes', async () => {
  const { out, code } = await runOnce('loopback');
  expect(out).toMatch(/^mode: loopback \(chosen with --mode loopback\)/m);
  // each node-mode ztunnel's DNS proxy on its own node IP (ISTIO_META_DNS_PROXY_ADDR), asked from the pod's IP
  expect(out).toMatch(/^PASS DNS: .*echo → 127\.10\.0\.1, .*\(127\.0\.100\.1:15053\)/m);
  expectEveryBehaviour(out, code);
});

const missing = await netnsMissing();
describe.skipIf(missing.length > 0)(`netns mode${missing.length > 0 ? ` (needs ${missing.join(', ')})` : ''}`, () => {
  it('npm start -- --once --mode netns: every behaviour line passes, with pods as namespaces', async () => {
    const { out, code } = await runOnce('netns');
    expect(out).toMatch(/^mode: netns \(chosen with --mode netns\): pods are network namespaces/m);
    // Addresses of the topology, not loopback ones: the mesh → mesh line names the pod's 10.0.<node>.x.
    expect(out).toMatch(/^PASS mesh → mesh .* via 10\.0\.3\.2:15008$/m);
    expect(out).toMatch(/^PASS out-of-mesh client .*plaintext 10\.0\.3\.3 → /m);
    // an unmodified resolver in the pod asking port 53, redirected to the pod's own 15053
    expect(out).toMatch(/^PASS DNS: .*echo → 10\.96\.\d+\.\d+, .*\(10\.96\.0\.10:53, redirected to the pod's 15053\)/m);
    expectEveryBehaviour(out, code);
  });
});
