#!/usr/bin/env node
// waypoint command: configuration from the environment, SIGTERM/SIGINT drain, a second signal exits at once.
import { helpText, loadConfig, redactedConfig } from './config.ts';
import { WaypointError } from './errors.ts';
import { version, Waypoint } from './waypoint.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(helpText());
  process.exit(0);
}
if (args.includes('--version')) {
  console.log(`waypoint (ambient-ts) ${version}`);
  process.exit(0);
}
const unknown = args.filter((arg) => arg !== '--print-config');
if (unknown.length > 0) {
  console.error(
    `waypoint: unknown argument ${unknown[0]}; configuration comes from environment variables (see --help)`,
  );
  process.exit(2);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (WaypointError.isWaypointError(error)) {
    console.error(`waypoint: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
if (args.includes('--print-config')) {
  console.log(JSON.stringify(redactedConfig(config), null, 2));
  process.exit(0);
}

let waypoint: Waypoint;
try {
  waypoint = await Waypoint.start(config);
} catch (error) {
  console.error(`waypoint: failed to start: ${(error as Error).message}`);
  process.exit(1);
}

let signals = 0;
const stop = (signal: string): void => {
  signals += 1;
  if (signals > 1) {
    console.error(`waypoint: second ${signal}, exiting now`);
    process.exit(1);
  }
  void waypoint.drain().then((state) => process.exit(state.state === 'stopped' ? 0 : 1));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
waypoint.lifecycle.onChange((state) => {
  // /quitquitquit drains too; exit when it is done.
  if (state.state === 'stopped' && signals === 0) process.exit(0);
});
