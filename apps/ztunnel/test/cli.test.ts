// The ztunnel command: --help, --version, and configuration errors naming the variable.
import { spawnSync } from 'node:child_process';
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

  it('refuses PROXY_MODE=shared until in-pod capture exists, saying what to use', () => {
    const result = run([], {
      FAKE_CA: 'true',
      XDS_ADDRESS: '',
      LOCAL_XDS: 'workloads: []',
      ADMIN_ADDR: '127.0.0.1:0',
      STATS_ADDR: '127.0.0.1:0',
      READINESS_ADDR: '127.0.0.1:0',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PROXY_MODE=shared (in-pod capture) is not supported yet (');
    // It says whether the native capture helper could be used here, and why not when it cannot.
    expect(result.stderr).toMatch(
      /\((the native helper @ambient-ts\/netns is available|and the native helper is unavailable here: [^)]+)\); use PROXY_MODE=node/,
    );
  });
});
