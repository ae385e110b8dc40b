// The `waypoint` command as the local mesh and Kubernetes run it: --help, a bad variable stops it with
// the variable's name (exit 2), and SIGTERM drains and exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const main = join(import.meta.dirname, '../src/main.ts');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--conditions=ambient-ts-source', main, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
  });

it('--help lists the variables', () => {
  const result = run(['--help']);
  expect(result.status).toBe(0);
  for (const name of [
    'INSTANCE_IP',
    'GATEWAY_NAME',
    'XDS_ADDRESS',
    'CA_ADDRESS',
    'LOCAL_XDS_PATH',
    'PROTOCOL_DETECTION_TIMEOUT',
  ]) {
    expect(result.stdout).toContain(name);
  }
});

it('stops at start with the name of a bad variable and exit code 2', () => {
  const result = run([], { POD_NAMESPACE: 'default', GATEWAY_NAME: 'waypoint', FAKE_CA: 'true' });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('waypoint: invalid INSTANCE_IP: is required');
  expect(run(['--bogus']).status).toBe(2);
});

it('drains on SIGTERM and exits 0', async () => {
  const child = spawn(process.execPath, ['--conditions=ambient-ts-source', main], {
    env: {
      PATH: process.env['PATH'] ?? '',
      INSTANCE_IP: '127.7.10.1',
      POD_NAMESPACE: 'default',
      GATEWAY_NAME: 'waypoint',
      XDS_ADDRESS: '',
      LOCAL_XDS: 'workloads: []',
      FAKE_CA: 'true',
      ADMIN_ADDR: '127.0.0.1:0',
      STATS_ADDR: '127.0.0.1:0',
      READINESS_ADDR: '127.0.0.1:0',
      CONNECTION_TERMINATION_DEADLINE: '1s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const started = Date.now();
  while (!out.includes('"waypoint started"') && Date.now() - started < 20_000)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(out).toContain('"message":"waypoint started"');
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number];
  expect(code).toBe(0);
  expect(out).toContain('"message":"waypoint stopped"');
});
