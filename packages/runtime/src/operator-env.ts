// The operator surface both proxies configure alike: log level and format, and where the admin, metrics and
// readiness servers listen (our additions: Istio's ztunnel has them on fixed ports), wildcard-bound on
// [::] unless IPV6_ENABLED=false.
import { parseBool, parseChoice, parseHostPort, read, type Env, type HostPort } from './env.ts';
import type { VariableHelp } from './proxy-env.ts';

export type LogFormat = 'json' | 'plain';

export interface OperatorConfig {
  ipv6Enabled: boolean;
  logging: { level: string; format: LogFormat };
  adminAddress: HostPort;
  statsAddress: HostPort;
  readinessAddress: HostPort;
}

/** `--help` rows of the variables `readOperator` reads. */
export function operatorVariables(defaultFormat: LogFormat): VariableHelp[] {
  return [
    ['RUST_LOG', 'info', 'log levels, e.g. info,access=debug'],
    ['LOG_FORMAT', defaultFormat, 'json or plain'],
    ['IPV6_ENABLED', 'true', 'dual-stack: wildcard listeners on [::] instead of 0.0.0.0'],
    ['ADMIN_ADDR (addition)', '127.0.0.1:15000', 'admin server (/config_dump, /logging, /quitquitquit)'],
    ['STATS_ADDR (addition)', '[::]:15020 (0.0.0.0 without IPv6)', 'metrics server (/metrics, /stats/prometheus)'],
    ['READINESS_ADDR (addition)', '[::]:15021 (0.0.0.0 without IPv6)', 'readiness server (/healthz/ready)'],
  ];
}

/** Read the operator settings; throws EnvError naming the first bad variable. */
export function readOperator(env: Env, defaultFormat: LogFormat): OperatorConfig {
  const ipv6Enabled = read(env, 'IPV6_ENABLED', true, parseBool);
  const wildcard = ipv6Enabled ? '::' : '0.0.0.0';
  const address = (variable: string, host: string, port: number): HostPort =>
    read(env, variable, { host, port }, (v, t) => parseHostPort(v, t, host));
  return {
    ipv6Enabled,
    logging: {
      level: env['RUST_LOG'] || 'info',
      format: read(env, 'LOG_FORMAT', defaultFormat, parseChoice<LogFormat>(['json', 'plain'])),
    },
    adminAddress: address('ADMIN_ADDR', '127.0.0.1', 15000),
    statsAddress: address('STATS_ADDR', wildcard, 15020),
    readinessAddress: address('READINESS_ADDR', wildcard, 15021),
  };
}
