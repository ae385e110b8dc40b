// `controlplane serve [flags] FILE|DIR...`: run the control plane until SIGINT/SIGTERM.
import { relative } from 'node:path';
import { Logging } from '@ambient-ts/telemetry';
import { ControlPlaneError } from '../errors.ts';
import { summarize, type Output } from '../validate.ts';
import { startControlPlane } from './control-plane.ts';
import type { RunningControlPlane } from './types.ts';
import { parseServeArgs } from './options.ts';

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
};

/** What a person starting the control plane needs to see: where to connect, where the files are, what is served. */
export function startupSummary(running: RunningControlPlane): string[] {
  const served = running.served();
  const names = [...running.serverNames.dnsNames, ...running.serverNames.ipAddresses].join(', ');
  const tokens = running.tokens();
  const nodes = tokens.filter((t) => t.kind === 'node').map((t) => t.key);
  const waypoints = tokens.filter((t) => t.kind === 'waypoint').map((t) => `${t.key} → ${shown(t.path)}`);
  return [
    `controlplane serving ${served.files.map(shown).join(', ')} (config version ${served.version})`,
    `  xDS + CA plaintext  ${running.addresses.plaintext}`,
    `  xDS + CA TLS        ${running.addresses.tls}  (certificate for ${names})`,
    `  state dir           ${shown(running.stateDir)}  (CA root ${running.caCreated ? 'created' : 'reused'}; proxies trust ${shown(running.rootCertPath)})`,
    `  node tokens         ${nodes.length === 0 ? 'none' : `${nodes.join(', ')} → ${shown(running.tokenPath('<node>'))}`}`,
    ...(waypoints.length === 0 ? [] : [`  waypoint tokens     ${waypoints.join(', ')}`]),
    ...summarize(served.translation).map((line) => `  ${line}`),
    running.watching > 0
      ? '  watching the YAML: edits are validated and pushed; Ctrl-C stops'
      : '  not watching the YAML; Ctrl-C stops',
  ];
}

export interface ServeProcess {
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  removeListener(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): never;
}

export async function runServe(
  args: readonly string[],
  io: Output,
  proc: ServeProcess = process as unknown as ServeProcess,
): Promise<number> {
  const parsed = parseServeArgs(args);
  let logging: Logging;
  try {
    logging = new Logging({ format: parsed.logFormat, level: parsed.logLevel });
  } catch (error) {
    throw new ControlPlaneError('USAGE', `--log-level: ${(error as Error).message}`);
  }
  let running: RunningControlPlane;
  try {
    running = await startControlPlane({ ...parsed.options, logging });
  } catch (error) {
    if (ControlPlaneError.isControlPlaneError(error) && !['USAGE', 'INVALID_OPTIONS'].includes(error.code)) {
      io.err(`controlplane serve: ${error.message}`);
      logging.flush();
      return 1;
    }
    throw error;
  }
  for (const line of startupSummary(running)) io.out(line);

  const signal = await new Promise<string>((resolve) => {
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const done = (name: string): void => {
      proc.removeListener('SIGINT', onInt);
      proc.removeListener('SIGTERM', onTerm);
      resolve(name);
    };
    proc.once('SIGINT', onInt);
    proc.once('SIGTERM', onTerm);
  });
  // a second signal while closing: stop waiting
  const force = (): void => proc.exit(1);
  proc.once('SIGINT', force);
  proc.once('SIGTERM', force);
  io.out(`controlplane: ${signal}, closing`);
  await running.close();
  proc.removeListener('SIGINT', force);
  proc.removeListener('SIGTERM', force);
  logging.flush();
  return 0;
}
