import { describe, expect, it } from 'vitest';
import { runProxyCommand, type CommandIo } from './command.ts';
import { EnvError } from './env.ts';
import { Lifecycle } from './lifecycle.ts';

class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

function io(argv: string[]): CommandIo & { lines: string[]; signals: Map<string, () => void> } {
  const lines: string[] = [];
  const signals = new Map<string, () => void>();
  return {
    argv,
    lines,
    signals,
    out: (text) => lines.push(`out: ${text}`),
    err: (text) => lines.push(`err: ${text}`),
    exit: (code) => {
      throw new Exit(code);
    },
    onSignal: (signal, listener) => signals.set(signal, listener),
  };
}

function fakeProxy() {
  const lifecycle = new Lifecycle();
  lifecycle.running();
  const steps = {
    stopAccepting: async () => {},
    goAway: async () => {},
    idle: async () => {},
    forceClose: () => 0,
    shutdown: async () => {},
  };
  return { lifecycle, drain: () => lifecycle.drain(10, steps) };
}

const command = (env: Record<string, string>) => ({
  name: 'proxy',
  version: '1.2.3',
  helpText: () => 'HELP',
  loadConfig: () => {
    if (env['BAD']) throw new EnvError('BAD', `"${env['BAD']}" is not a boolean; use true or false`);
    return { port: 1 };
  },
  isConfigError: EnvError.isEnvError,
  redactedConfig: (config: { port: number }) => ({ ...config, secret: '<redacted>' }),
  start: async () => fakeProxy(),
});

async function exitCode(run: Promise<unknown>): Promise<number> {
  try {
    await run;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    throw error;
  }
  return -1;
}

describe('runProxyCommand', () => {
  it('--help, --version, --print-config and unknown arguments', async () => {
    let term = io(['--help']);
    expect(await exitCode(runProxyCommand(command({}), term))).toBe(0);
    expect(term.lines).toEqual(['out: HELP']);
    term = io(['--version']);
    expect(await exitCode(runProxyCommand(command({}), term))).toBe(0);
    expect(term.lines).toEqual(['out: proxy (ambient-ts) 1.2.3']);
    term = io(['--print-config']);
    expect(await exitCode(runProxyCommand(command({}), term))).toBe(0);
    expect(JSON.parse(term.lines[0]!.slice(5))).toEqual({ port: 1, secret: '<redacted>' });
    term = io(['--frobnicate']);
    expect(await exitCode(runProxyCommand(command({}), term))).toBe(2);
    expect(term.lines[0]).toContain('unknown argument --frobnicate');
  });

  it('a bad environment value exits 2 naming the variable; a failed start exits 1', async () => {
    let term = io([]);
    expect(await exitCode(runProxyCommand(command({ BAD: 'maybe' }), term))).toBe(2);
    expect(term.lines).toEqual(['err: proxy: invalid BAD: "maybe" is not a boolean; use true or false']);
    term = io([]);
    const failing = { ...command({}), start: async () => Promise.reject(new Error('port 15000 is in use')) };
    expect(await exitCode(runProxyCommand(failing, term))).toBe(1);
    expect(term.lines).toEqual(['err: proxy: failed to start: port 15000 is in use']);
  });

  it('SIGTERM drains and exits 0', async () => {
    const term = io([]);
    const proxy = await runProxyCommand(command({}), term);
    expect(proxy?.lifecycle.current.state).toBe('running');
    const exited = new Promise<number>((resolve) => {
      term.exit = ((code: number) => resolve(code)) as CommandIo['exit'];
    });
    term.signals.get('SIGTERM')!();
    expect(await exited).toBe(0);
    expect(proxy?.lifecycle.current.state).toBe('stopped');
  });
});
