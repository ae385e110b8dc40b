// The settings both proxies read alike beyond the control plane: log level and format, where the admin,
// metrics and readiness servers listen (our additions: Istio's ztunnel has them on fixed ports; wildcard-bound
// on [::] unless IPV6_ENABLED=false), the drain deadline and the outbound HBONE pool.
import {
  parseBool,
  parseChoice,
  parseDuration,
  parseHostPort,
  parseInteger,
  read,
  type Env,
  type HostPort,
} from './env.ts';
import { terminationDeadline, type VariableHelp } from './proxy-env.ts';

export type LogFormat = 'json' | 'plain';

export interface OperatorConfig {
  ipv6Enabled: boolean;
  logging: { level: string; format: LogFormat };
  adminAddress: HostPort;
  statsAddress: HostPort;
  readinessAddress: HostPort;
  /** CONNECTION_TERMINATION_DEADLINE (or TERMINATION_GRACE_PERIOD_SECONDS − 5): how long a drain may take. */
  terminationDeadlineMs: number;
  /** The outbound HBONE connection pool (POOL_*). */
  pool: { maxStreamsPerConnection: number; unusedReleaseTimeoutMs: number };
}

/** Proxy-specific defaults of the shared settings. */
export interface OperatorDefaults {
  readonly logFormat: LogFormat;
  /** POOL_UNUSED_RELEASE_TIMEOUT default (ztunnel 5m, the waypoint 1h) */
  readonly poolReleaseMs: number;
}

const minutes = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);

/** `--help` rows of the variables `readOperator` reads. */
export function operatorVariables(defaults: OperatorDefaults): VariableHelp[] {
  return [
    ['RUST_LOG', 'info', 'log levels, e.g. info,access=debug'],
    ['LOG_FORMAT', defaults.logFormat, 'json or plain'],
    ['IPV6_ENABLED', 'true', 'dual-stack: wildcard listeners on [::] instead of 0.0.0.0'],
    ['ADMIN_ADDR (addition)', '127.0.0.1:15000', 'admin server (/config_dump, /logging, /quitquitquit)'],
    ['STATS_ADDR (addition)', '[::]:15020 (0.0.0.0 without IPv6)', 'metrics server (/metrics, /stats/prometheus)'],
    ['READINESS_ADDR (addition)', '[::]:15021 (0.0.0.0 without IPv6)', 'readiness server (/healthz/ready)'],
    ['CONNECTION_TERMINATION_DEADLINE', '5s (or TERMINATION_GRACE_PERIOD_SECONDS-5)', 'drain deadline on shutdown'],
    ['POOL_MAX_STREAMS_PER_CONNECTION', '100', 'streams per pooled outbound HBONE connection'],
    [
      'POOL_UNUSED_RELEASE_TIMEOUT',
      minutes(defaults.poolReleaseMs),
      'idle pooled HBONE connections are released after this',
    ],
  ];
}

/** Read the operator settings; throws EnvError naming the first bad variable. */
export function readOperator(env: Env, defaults: OperatorDefaults): OperatorConfig {
  const ipv6Enabled = read(env, 'IPV6_ENABLED', true, parseBool);
  const wildcard = ipv6Enabled ? '::' : '0.0.0.0';
  const address = (variable: string, host: string, port: number): HostPort =>
    read(env, variable, { host, port }, (v, t) => parseHostPort(v, t, host));
  return {
    ipv6Enabled,
    logging: {
      level: env['RUST_LOG'] || 'info',
      format: read(env, 'LOG_FORMAT', defaults.logFormat, parseChoice<LogFormat>(['json', 'plain'])),
    },
    adminAddress: address('ADMIN_ADDR', '127.0.0.1', 15000),
    statsAddress: address('STATS_ADDR', wildcard, 15020),
    readinessAddress: address('READINESS_ADDR', wildcard, 15021),
    terminationDeadlineMs: terminationDeadline(env),
    pool: {
      maxStreamsPerConnection: read(env, 'POOL_MAX_STREAMS_PER_CONNECTION', 100, (v, t) => parseInteger(v, t, 1)),
      unusedReleaseTimeoutMs: read(env, 'POOL_UNUSED_RELEASE_TIMEOUT', defaults.poolReleaseMs, parseDuration),
    },
  };
}
