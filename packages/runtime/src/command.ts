// The command-line shell of a proxy (ztunnel, waypoint): --help, --version, --print-config, configuration
// from the environment (a bad value exits 2 naming the variable), start (a failure exits 1 saying why),
// SIGTERM/SIGINT drain with exit 0, a second signal exits at once, and /quitquitquit's drain exits too.
import type { Lifecycle, LifecycleState } from './lifecycle.ts';

export interface ProxyCommand<Config, Proxy extends { lifecycle: Lifecycle; drain(): Promise<LifecycleState> }> {
  name: string;
  version: string;
  helpText: () => string;
  loadConfig: () => Config;
  /** Configuration errors end the process with exit 2 and the message; anything else is a bug. */
  isConfigError: (error: unknown) => boolean;
  redactedConfig: (config: Config) => unknown;
  start: (config: Config) => Promise<Proxy>;
}

export interface CommandIo {
  argv: string[];
  out: (text: string) => void;
  err: (text: string) => void;
  exit: (code: number) => never;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', listener: () => void) => void;
}

const processIo = (): CommandIo => ({
  argv: process.argv.slice(2),
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  exit: (code) => process.exit(code),
  onSignal: (signal, listener) => void process.on(signal, listener),
});

export async function runProxyCommand<Config, Proxy extends { lifecycle: Lifecycle; drain(): Promise<LifecycleState> }>(
  command: ProxyCommand<Config, Proxy>,
  io: CommandIo = processIo(),
): Promise<Proxy | undefined> {
  const { argv } = io;
  const { name } = command;
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(command.helpText());
    return io.exit(0);
  }
  if (argv.includes('--version')) {
    io.out(`${name} (ambient-ts) ${command.version}`);
    return io.exit(0);
  }
  const unknown = argv.filter((arg) => arg !== '--print-config');
  if (unknown.length > 0) {
    io.err(`${name}: unknown argument ${unknown[0]}; configuration comes from environment variables (see --help)`);
    return io.exit(2);
  }
  let config: Config;
  try {
    config = command.loadConfig();
  } catch (error) {
    if (!command.isConfigError(error)) throw error;
    io.err(`${name}: ${(error as Error).message}`);
    return io.exit(2);
  }
  if (argv.includes('--print-config')) {
    io.out(JSON.stringify(command.redactedConfig(config), null, 2));
    return io.exit(0);
  }
  let proxy: Proxy;
  try {
    proxy = await command.start(config);
  } catch (error) {
    io.err(`${name}: failed to start: ${(error as Error).message}`);
    return io.exit(1);
  }
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    if (signals > 1) {
      io.err(`${name}: second ${signal}, exiting now`);
      io.exit(1);
    }
    void proxy.drain().then((state) => io.exit(state.state === 'stopped' ? 0 : 1));
  };
  io.onSignal('SIGTERM', () => stop('SIGTERM'));
  io.onSignal('SIGINT', () => stop('SIGINT'));
  // POST /quitquitquit drains too; exit when it is done.
  proxy.lifecycle.onChange((state) => {
    if (state.state === 'stopped' && signals === 0) io.exit(0);
  });
  return proxy;
}
