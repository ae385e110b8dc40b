// Every failure this package reports, with a stable code. Messages name the resource, field or file:line.

export type DiscoveryErrorCode =
  // resource validation (what makes ztunnel NACK a resource)
  | 'RESOURCE_INVALID'
  // static LocalConfig YAML
  | 'STATIC_CONFIG_READ'
  | 'STATIC_CONFIG_INVALID';

const marker = Symbol.for('@ambient-ts/discovery/DiscoveryError');

export class DiscoveryError extends Error {
  readonly code: DiscoveryErrorCode;
  readonly [marker] = true;

  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isDiscoveryError(value: unknown): value is DiscoveryError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The message of anything thrown, for logs and NACK details. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
