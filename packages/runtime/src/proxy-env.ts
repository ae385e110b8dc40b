// Environment handling that every Istio-style proxy shares (ztunnel and waypoint read the same names):
// control-plane addresses, the drain deadline, the --help table, and redaction for printed configs.
import { parseDuration, parseInteger, type Env } from './env.ts';

/** One row of `--help`: variable, default, meaning. */
export type VariableHelp = [name: string, fallback: string, meaning: string];

export function formatHelp(heading: string[], command: string, variables: readonly VariableHelp[]): string {
  const width = Math.max(...variables.map(([name]) => name.length));
  const rows = variables.map(
    ([name, fallback, meaning]) => `  ${name.padEnd(width)}  ${meaning}${fallback ? ` [default: ${fallback}]` : ''}`,
  );
  return [...heading, '', `usage: ${command} [--help] [--version] [--print-config]`, '', 'environment:', ...rows].join(
    '\n',
  );
}

/** XDS_ADDRESS / CA_ADDRESS as Istio reads them: unset → undefined, "" → disabled, no scheme → https://. */
export function controlPlaneAddress(env: Env, variable: string): string | undefined {
  const value = env[variable];
  if (value === undefined) return undefined;
  if (value === '') return '';
  return /^[a-z]+:\/\//.test(value) ? value : `https://${value}`;
}

/**
 * The drain deadline: CONNECTION_TERMINATION_DEADLINE, else TERMINATION_GRACE_PERIOD_SECONDS − 5 (− 1 when
 * it is 10 s or less, at least 1 s), else 5 s — as ztunnel computes it.
 */
export function terminationDeadline(env: Env): number {
  if (env['CONNECTION_TERMINATION_DEADLINE']) {
    return parseDuration('CONNECTION_TERMINATION_DEADLINE', env['CONNECTION_TERMINATION_DEADLINE']);
  }
  const grace = env['TERMINATION_GRACE_PERIOD_SECONDS'];
  if (!grace) return 5000;
  const seconds = parseInteger('TERMINATION_GRACE_PERIOD_SECONDS', grace, 0);
  return Math.max(1, seconds > 10 ? seconds - 5 : seconds - 1) * 1000;
}

export interface SecretBearingConfig {
  /** A token file path (printed) or a literal token (redacted). */
  authToken: string;
  xdsHeaders: Record<string, string>;
  caHeaders: Record<string, string>;
  localXds?: string;
}

/** The config as printed at start-up and in /config_dump: tokens, header values and inline YAML redacted. */
export function redactConfig(config: SecretBearingConfig): Record<string, unknown> {
  const looksLikeFile = (value: string): boolean => value.startsWith('/') || value.startsWith('./');
  const redactValues = (headers: Record<string, string>) =>
    Object.fromEntries(Object.keys(headers).map((key) => [key, '<redacted>']));
  return {
    ...(config as unknown as Record<string, unknown>),
    authToken: looksLikeFile(config.authToken) ? config.authToken : '<redacted>',
    xdsHeaders: redactValues(config.xdsHeaders),
    caHeaders: redactValues(config.caHeaders),
    ...(config.localXds ? { localXds: `<${config.localXds.length} bytes of inline YAML>` } : {}),
  };
}
