// Every failure the waypoint reports to its caller, with a stable code. Request-level failures are HTTP
// answers (see proxy/local-reply.ts), not exceptions; these are start-up and configuration failures.

export type WaypointErrorCode =
  /** An environment variable has a value the waypoint cannot use; `variable` names it. */
  | 'INVALID_CONFIG'
  /** The static LOCAL_XDS_PATH / LOCAL_XDS file cannot be read or parsed. */
  | 'LOCAL_CONFIG_INVALID';

const marker = Symbol.for('@ambient-ts/waypoint/WaypointError');

export class WaypointError extends Error {
  /** For INVALID_CONFIG: the environment variable at fault. */
  readonly variable: string | undefined;
  readonly code: WaypointErrorCode;
  readonly [marker] = true;

  constructor(code: WaypointErrorCode, message: string, options?: { cause?: unknown; variable?: string }) {
    super(message, options);
    this.name = 'WaypointError';
    this.code = code;
    this.variable = options?.variable;
  }

  /** Works across duplicate installs, unlike instanceof. */
  static isWaypointError(value: unknown): value is WaypointError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** An invalid environment variable: the message names it and the accepted form. */
export function configError(variable: string, message: string): WaypointError {
  return new WaypointError('INVALID_CONFIG', `invalid ${variable}: ${message}`, { variable });
}
