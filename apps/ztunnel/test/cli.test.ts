// The ztunnel command: --help, --version, and configuration errors naming the variable.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '../src/main.ts');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--conditions=ambient-ts-source', main, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('ztunnel command', () => {
  it('--help lists the environment variables', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('XDS_ADDRESS');
    expect(result.stdout).toContain('PROXY_WORKLOAD_INFO');
  });

  it('--version prints the version', () => {
    expect(run(['--version']).stdout).toMatch(/^ztunnel \(ambient-ts\) \d+\.\d+\.\d+/);
  });

  it('an invalid value stops the start with the variable and the accepted form', () => {
    const result = run([], { SECRET_TTL: 'forever' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('invalid SECRET_TTL: "forever" is not a duration; use a number with a unit');
  });

  it('--print-config shows the effective config with secrets redacted', () => {
    const result = run(['--print-config'], {
      PROXY_MODE: 'node',
      FAKE_CA: 'true',
      XDS_ADDRESS: '',
      LOCAL_XDS: 'workloads: []',
      AUTH_TOKEN: 'secret',
    });
    expect(result.status).toBe(0);
    const config = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(config).toMatchObject({ proxyMode: 'node', fakeCa: true, authToken: '<redacted>' });
  });

  it('PROXY_MODE=shared (the default) connects to the node agent at INPOD_UDS, or says why in-pod mode cannot run here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztunnel-cli-'));
    const uds = join(dir, 'ztunnel.sock');
    const child = spawn(process.execPath, ['--conditions=ambient-ts-source', main], {
      env: {
        PATH: process.env['PATH'] ?? '',
        FAKE_CA: 'true',
        XDS_ADDRESS: '',
        LOCAL_XDS: 'workloads: []',
        ADMIN_ADDR: '127.0.0.1:0',
        STATS_ADDR: '127.0.0.1:0',
        READINESS_ADDR: '127.0.0.1:0',
        INPOD_UDS: uds,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!output.includes(`cannot connect to the node agent at ${uds}`) && Date.now() < deadline) {
        const done = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('wait'), 50))]);
        if (done !== 'wait') break;
      }
      if (output.includes('PROXY_MODE=shared cannot run here')) {
        // No native addon here: refused at once, saying why and what to use.
        expect(await exited).toBe(1);
        expect(output).toMatch(
          /PROXY_MODE=shared cannot run here: transparent capture is unavailable on this machine: .+ Still available: PROXY_MODE=node/,
        );
      } else {
        // It runs and keeps retrying the agent's socket with backoff (nobody listens there).
        expect(output).toContain(`cannot connect to the node agent at ${uds}`);
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
