// What `serve` runs with: the YAML to watch, where state lives, the two istiod-like ports, and the
// translation options. `controlplane serve` flags and startControlPlane() options resolve to the same thing.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { Logging } from '@ambient-ts/telemetry';
import { parseTranslateArgs } from '../cli-options.ts';
import { ControlPlaneError } from '../errors.ts';
import { resolveOptions, type ResolvedOptions, type TranslateOptions } from '../translate/model.ts';

export interface ServeOptions {
  /** YAML files, or directories whose `*.yaml` / `*.yml` files are read (not recursively). */
  readonly files: readonly string[];
  /** CA root, token signing key, root-cert.pem and tokens/. Default `.mesh` under the current directory. */
  readonly stateDir?: string;
  /** Address both ports bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Plaintext xDS + CA, as istiod's 15010. Default 15010; 0 picks a free port. */
  readonly xdsPlaintextPort?: number;
  /** TLS xDS + CA, as istiod's 15012. Default 15012; 0 picks a free port. */
  readonly xdsTlsPort?: number;
  readonly translate?: TranslateOptions;
  /** Re-translate and push when the YAML changes. Default true. */
  readonly watch?: boolean;
  /** Quiet time after the last file event before re-reading. Default 150 ms. */
  readonly debounceMs?: number;
  /** Lifetime of node and waypoint tokens; they are re-issued at half of it. Default 24 h. */
  readonly tokenTtlSeconds?: number;
  /** Where logs go (scopes `controlplane`, `config`, `xds`, `ca`). Default: JSON lines on stdout. */
  readonly logging?: Logging;
}

export interface ResolvedServeOptions {
  readonly files: readonly string[];
  readonly stateDir: string;
  readonly host: string;
  readonly ports: { readonly plaintext: number; readonly tls: number };
  readonly translateOptions: TranslateOptions;
  readonly translate: ResolvedOptions;
  readonly watch: boolean;
  readonly debounceMs: number;
  readonly tokenTtlSeconds: number;
}

export const DEFAULT_PLAINTEXT_PORT = 15010;
export const DEFAULT_TLS_PORT = 15012;
export const DEFAULT_STATE_DIR = '.mesh';

function port(value: number | undefined, fallback: number, name: string): number {
  const p = value ?? fallback;
  if (!Number.isInteger(p) || p < 0 || p > 65535)
    throw new ControlPlaneError('INVALID_OPTIONS', `${name} ${JSON.stringify(value)} is not a port (0-65535)`);
  return p;
}

export function resolveServeOptions(options: ServeOptions): ResolvedServeOptions {
  if (options.files.length === 0)
    throw new ControlPlaneError('INVALID_OPTIONS', 'serve needs at least one YAML file or directory');
  const host = options.host ?? '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0)
    throw new ControlPlaneError('INVALID_OPTIONS', `host ${JSON.stringify(host)} is not an IP address or localhost`);
  const ports = {
    plaintext: port(options.xdsPlaintextPort, DEFAULT_PLAINTEXT_PORT, 'xdsPlaintextPort'),
    tls: port(options.xdsTlsPort, DEFAULT_TLS_PORT, 'xdsTlsPort'),
  };
  if (ports.plaintext !== 0 && ports.plaintext === ports.tls)
    throw new ControlPlaneError('INVALID_OPTIONS', `the plaintext and TLS ports must differ (both ${ports.tls})`);
  const ttl = options.tokenTtlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl < 60)
    throw new ControlPlaneError('INVALID_OPTIONS', `tokenTtlSeconds ${ttl} must be a whole number of at least 60`);
  const debounceMs = options.debounceMs ?? 150;
  if (!(debounceMs >= 0)) throw new ControlPlaneError('INVALID_OPTIONS', `debounceMs ${debounceMs} must be >= 0`);
  const translateOptions = options.translate ?? {};
  return {
    files: [...options.files], // as given, so problems read like `controlplane validate`'s
    stateDir: resolve(options.stateDir ?? DEFAULT_STATE_DIR),
    host,
    ports,
    translateOptions,
    translate: resolveOptions(translateOptions),
    watch: options.watch ?? true,
    debounceMs,
    tokenTtlSeconds: ttl,
  };
}

export const SERVE_FLAGS_HELP = [
  '  --state-dir=DIR           serve: CA root, tokens and root-cert.pem (default .mesh)',
  '  --host=IP                 serve: address both ports bind (default 127.0.0.1)',
  '  --xds-plaintext-port=N    serve: plaintext xDS + CA port (default 15010; 0 = any free port)',
  '  --xds-tls-port=N          serve: TLS xDS + CA port (default 15012; 0 = any free port)',
  '  --no-watch                serve: do not watch the YAML for changes',
  '  --log-level=SPEC          serve: info, debug, or per scope like info,xds=debug',
  '  --log-format=plain|json   serve: log line format (default plain)',
];

export interface ServeArgs {
  readonly options: Omit<ServeOptions, 'logging'>;
  readonly logLevel: string;
  readonly logFormat: 'plain' | 'json';
}

function portFlag(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ControlPlaneError('USAGE', `--${flag} ${JSON.stringify(value)} is not a port`);
  return Number(value);
}

/** `serve` flags, then the translation flags and files (parseTranslateArgs). */
export function parseServeArgs(args: readonly string[]): ServeArgs {
  const rest: string[] = [];
  const options: { -readonly [K in keyof ServeOptions]?: ServeOptions[K] } = {};
  let logLevel = 'info';
  let logFormat: 'plain' | 'json' = 'plain';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--no-watch') {
      options.watch = false;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') ? (eq < 0 ? arg.slice(2) : arg.slice(2, eq)) : '';
    const known = ['state-dir', 'host', 'xds-plaintext-port', 'xds-tls-port', 'log-level', 'log-format'];
    if (!known.includes(flag)) {
      rest.push(arg);
      continue;
    }
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new ControlPlaneError('USAGE', `--${flag} needs a value`);
    if (flag === 'state-dir') options.stateDir = value;
    else if (flag === 'host') options.host = value;
    else if (flag === 'xds-plaintext-port') options.xdsPlaintextPort = portFlag(flag, value);
    else if (flag === 'xds-tls-port') options.xdsTlsPort = portFlag(flag, value);
    else if (flag === 'log-level') logLevel = value;
    else if (value === 'plain' || value === 'json') logFormat = value;
    else throw new ControlPlaneError('USAGE', `--log-format must be plain or json, not ${JSON.stringify(value)}`);
  }
  const { options: translate, files } = parseTranslateArgs(rest);
  if (files.length === 0) throw new ControlPlaneError('USAGE', 'serve needs at least one YAML file or directory');
  return { options: { ...options, translate, files }, logLevel, logFormat };
}
