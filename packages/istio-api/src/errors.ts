// Every failure the codecs report, with a stable code. Messages name the type and the field path.

export type IstioApiErrorCode =
  /** a type URL or message name this schema does not have */
  | 'CODEC_UNKNOWN_TYPE'
  /** bytes that are not a valid encoding of the message */
  | 'CODEC_DECODE_FAILED'
  /** a proto3 JSON object that does not fit the message (the path names the field) */
  | 'CODEC_INVALID_JSON';

const marker = Symbol.for('@ambient-ts/istio-api/IstioApiError');

export class IstioApiError extends Error {
  readonly code: IstioApiErrorCode;
  readonly [marker] = true;

  constructor(code: IstioApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IstioApiError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isIstioApiError(value: unknown): value is IstioApiError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
