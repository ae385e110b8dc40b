// Typed parsers for environment values. Each failure names the variable and the accepted form, so a bad
// value stops the process at start with an actionable message. Packages never read the process environment: an app's
// config.ts passes its environment in.
import { isIP } from 'node:net';

const marker = Symbol.for('@ambient-ts/runtime/EnvError');

export class EnvError extends Error {
  readonly code = 'INVALID_CONFIG';
  /** The environment variable at fault. */
  readonly variable: string;
  /** What is wrong and what is accepted, without the variable name. */
  readonly detail: string;
  readonly [marker] = true;

  constructor(variable: string, detail: string) {
    super(`invalid ${variable}: ${detail}`);
    this.name = 'EnvError';
    this.variable = variable;
    this.detail = detail;
  }

  /** Works across duplicate installs, unlike instanceof. */
  static isEnvError(value: unknown): value is EnvError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go/humantime-style durations: `300ms`, `5m`, `1h30m`, `24h`. Returns milliseconds. */
export function parseDuration(variable: string, text: string): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * durationUnits[match[2]!]!;
    consumed += match[0].length;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new EnvError(variable, `"${text}" is not a duration; use a number with a unit, e.g. 10s, 5m, 24h, 1h30m`);
  }
  return total;
}

export function parseBool(variable: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new EnvError(variable, `"${text}" is not a boolean; use true or false`);
}

export function parseInteger(variable: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new EnvError(variable, `"${text}" is not a whole number between ${min} and ${max}`);
  }
  return value;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port` or `:port` (all addresses). */
export function parseHostPort(variable: string, text: string, defaultHost = '0.0.0.0'): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new EnvError(variable, `"${text}" is not an address; use host:port, [ipv6]:port or :port`);
  }
  return { host: match[1] ?? (match[2] || defaultHost), port };
}

export function parseIp(variable: string, text: string): string {
  const value = text.trim();
  if (isIP(value) === 0) throw new EnvError(variable, `"${text}" is not an IPv4 or IPv6 address`);
  return value;
}

export function parseChoice<T extends string>(choices: readonly T[]): (variable: string, text: string) => T {
  return (variable, text) => {
    if ((choices as readonly string[]).includes(text)) return text as T;
    throw new EnvError(variable, `"${text}" is not one of ${choices.join(', ')}`);
  };
}

/** Reads one variable with a default and a parser; undefined or empty means the default. */
export function read<T>(env: Env, variable: string, fallback: T, parse: (variable: string, text: string) => T): T {
  const text = env[variable];
  return text === undefined || text === '' ? fallback : parse(variable, text);
}

/** Every `<PREFIX><NAME>=value` entry, with the prefix removed. */
export function withPrefix(env: Env, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(prefix) && key.length > prefix.length && value !== undefined)
      out[key.slice(prefix.length)] = value;
  }
  return out;
}
