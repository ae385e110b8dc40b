// Structured logs with ztunnel's shape: one JSON object per line with level, time, scope, message and
// dotted fields (LOG_FORMAT=json), or a plain text line. Levels are adjustable at run time per scope,
// the way ztunnel's admin POST /logging?level=... works.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';
export const logLevels: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'off'];

export interface LoggingOptions {
  format?: 'json' | 'plain';
  /** Default level, or a ztunnel/RUST_LOG-style spec like `info,access=debug` / `access:debug`. */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

const pinoLevel = (level: LogLevel): string => (level === 'off' ? 'silent' : level);

function plainStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const { time, level, scope, message, ...fields } = JSON.parse(line) as Record<string, unknown>;
        const rest = Object.entries(fields)
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        out.write(
          `${String(time)}\t${String(level).padEnd(5)}\t${String(scope)}\t${String(message)}${rest ? `\t${rest}` : ''}\n`,
        );
      }
      callback();
    },
  });
}

/** Parse `info`, `access=debug`, `access:debug,xds:info` (comma separated; bare level = default). */
export function parseLevelSpec(spec: string): { defaultLevel?: LogLevel; scopes: Record<string, LogLevel> } {
  const result: { defaultLevel?: LogLevel; scopes: Record<string, LogLevel> } = { scopes: {} };
  for (const part of spec
    .split(',')
    .map((piece) => piece.trim())
    .filter(Boolean)) {
    const match = /^(?:([\w.:-]+?)[=:])?(\w+)$/.exec(part);
    const level = match?.[2]?.toLowerCase() as LogLevel | undefined;
    if (!match || !level || !logLevels.includes(level)) {
      throw new Error(
        `invalid log level "${part}": expected <level> or <scope>:<level> with level one of ${logLevels.join(', ')}`,
      );
    }
    if (match[1]) result.scopes[match[1]] = level;
    else result.defaultLevel = level;
  }
  return result;
}

/** A root logger plus one child per scope, each with its own adjustable level. */
export class Logging {
  readonly #root: Logger;
  readonly #scopes = new Map<string, Logger>();
  readonly #initialSpec: string;
  #defaultLevel: LogLevel = 'info';
  #overrides: Record<string, LogLevel> = {};

  constructor(options: LoggingOptions = {}) {
    const destination = options.destination ?? process.stdout;
    const stream = options.format === 'plain' ? plainStream(destination) : destination;
    this.#root = pino(
      {
        base: null,
        messageKey: 'message',
        level: 'trace',
        timestamp: () => `,"time":"${new Date().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
      },
      stream as pino.DestinationStream,
    );
    this.#initialSpec = options.level ?? 'info';
    this.setLevels(this.#initialSpec);
  }

  /** The logger for one scope (`access`, `xds`, `proxy`, ...). */
  scope(name: string): Logger {
    let logger = this.#scopes.get(name);
    if (!logger) {
      logger = this.#root.child({ scope: name });
      logger.level = pinoLevel(this.#overrides[name] ?? this.#defaultLevel);
      this.#scopes.set(name, logger);
    }
    return logger;
  }

  /** Apply a level spec; throws with a usage message when it is invalid (nothing changes then). */
  setLevels(spec: string): void {
    const parsed = parseLevelSpec(spec);
    if (parsed.defaultLevel) {
      this.#defaultLevel = parsed.defaultLevel;
      this.#overrides = {};
    }
    Object.assign(this.#overrides, parsed.scopes);
    for (const [name, logger] of this.#scopes) logger.level = pinoLevel(this.#overrides[name] ?? this.#defaultLevel);
  }

  reset(): void {
    this.#overrides = {};
    this.#defaultLevel = 'info';
    this.setLevels(this.#initialSpec);
  }

  /** `current log level is info` plus per-scope overrides, as ztunnel's /logging answers. */
  describe(): string {
    const scopes = Object.entries(this.#overrides).map(([name, level]) => `${name}:${level}`);
    return `current log level is ${[this.#defaultLevel, ...scopes].join(',')}\n`;
  }

  flush(): void {
    this.#root.flush();
  }
}
