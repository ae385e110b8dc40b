#!/usr/bin/env node
// ztunnel command: configuration from the environment (like Istio's ztunnel), SIGTERM/SIGINT drain,
// a second signal exits at once.
import { setDefaultHighWaterMark } from 'node:stream';
import { EnvError, runProxyCommand } from '@ambient-ts/runtime';
import { helpText, loadConfig, redactedConfig } from './config.ts';
import { version, Ztunnel } from './ztunnel.ts';

// Bigger stream buffers: about 15 % less CPU per byte through HBONE (measured in tools/bench/hbone). A
// process-wide setting, so the app makes it, not the packages.
setDefaultHighWaterMark(false, 1 << 20);

await runProxyCommand({
  name: 'ztunnel',
  version,
  helpText,
  loadConfig,
  isConfigError: EnvError.isEnvError,
  redactedConfig,
  start: (config) => Ztunnel.start(config),
});
