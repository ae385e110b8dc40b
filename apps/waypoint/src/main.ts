#!/usr/bin/env node
// waypoint command: configuration from the environment, SIGTERM/SIGINT drain, a second signal exits at once.
import { runProxyCommand } from '@ambient-ts/runtime';
import { helpText, loadConfig, redactedConfig } from './config.ts';
import { WaypointError } from './errors.ts';
import { version, Waypoint } from './waypoint.ts';

await runProxyCommand({
  name: 'waypoint',
  version,
  helpText,
  loadConfig,
  isConfigError: (error) => WaypointError.isWaypointError(error) && error.code === 'INVALID_CONFIG',
  redactedConfig,
  start: (config) => Waypoint.start(config),
});
