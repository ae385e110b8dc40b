// Every failure the xDS layer reports, with a stable code. Per-resource rejections are not errors: they are
// NACKs (error_detail naming each rejected resource and the reason its handler gave).

export type XdsErrorCode =
  /** an options object the client or server cannot use (which option, what to give instead) */
  'OPTIONS_INVALID' | 'XDS_UNAUTHENTICATED' | 'XDS_SERVER_CLOSED' | 'XDS_BIND_FAILED';

const marker = Symbol.for('@ambient-ts/xds/XdsError');

export class XdsError extends Error {
  readonly code: XdsErrorCode;
  readonly [marker] = true;

  constructor(code: XdsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'XdsError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isXdsError(value: unknown): value is XdsError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The message of anything thrown, for logs and NACK details. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
