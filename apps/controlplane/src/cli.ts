#!/usr/bin/env node
// `controlplane <command> ...`: `validate` checks YAML, `serve` runs the control plane. Commands are a table.
import { TRANSLATE_FLAGS_HELP } from './cli-options.ts';
import { ControlPlaneError } from './errors.ts';
import { runServe } from './serve/command.ts';
import { SERVE_FLAGS_HELP } from './serve/options.ts';
import { runValidate, type Output } from './validate.ts';

export interface Command {
  readonly summary: string;
  run(args: readonly string[], io: Output): Promise<number>;
}

export const commands: Record<string, Command> = {
  validate: {
    summary: 'validate FILE...   check Kubernetes-style YAML, print every problem as file:line, exit 1 on errors',
    run: runValidate,
  },
  serve: {
    summary: 'serve FILE|DIR...   serve the YAML over delta xDS + Istio CA (plaintext 15010, TLS 15012), follow edits',
    run: (args, io) => runServe(args, io),
  },
};

export function usage(): string {
  return [
    'usage: controlplane <command> [flags] FILE...',
    '',
    'commands:',
    ...Object.values(commands).map((c) => `  ${c.summary}`),
    '',
    'flags:',
    ...TRANSLATE_FLAGS_HELP,
    ...SERVE_FLAGS_HELP,
  ].join('\n');
}

export async function main(argv: readonly string[], io: Output): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.err(`controlplane: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (ControlPlaneError.isControlPlaneError(error)) {
      io.err(`controlplane ${name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  const io: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };
  process.exitCode = await main(process.argv.slice(2), io);
}
