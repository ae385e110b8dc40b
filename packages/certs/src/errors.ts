// Every failure this package reports, with a stable code. Messages say what was refused and what to do.
import type { CaErrorCode } from '@ambient-ts/ca';

export type CertsErrorCode =
  // Inputs given to this package
  | 'INVALID_OPTIONS'
  | 'IDENTITY_INVALID'
  // Talking to a CA
  | 'CA_UNAVAILABLE'
  | 'CA_UNAUTHENTICATED'
  | 'CA_PERMISSION_DENIED'
  | 'CA_INVALID_ARGUMENT'
  | 'CA_DEADLINE_EXCEEDED'
  | 'CA_CALL_FAILED'
  | 'CA_ROOT_UNREADABLE'
  | 'CA_TOKEN_UNREADABLE'
  | 'ABORTED'
  // What a CA answered
  | 'CA_RESPONSE_EMPTY'
  | 'CA_RESPONSE_NO_ROOT'
  | 'CA_RESPONSE_BAD_CERTIFICATE'
  | 'CA_RESPONSE_WRONG_IDENTITY'
  | 'CA_RESPONSE_KEY_MISMATCH'
  | 'CA_RESPONSE_UNTRUSTED'
  // Certificate manager
  | 'CERT_UNAVAILABLE'
  | 'CERT_FORGOTTEN'
  | 'MANAGER_CLOSED'
  // An in-process CA (LocalCa) refusing, with @ambient-ts/ca's code (e.g. CA_EXPIRED)
  | CaErrorCode;

const marker = Symbol.for('@ambient-ts/certs/CertsError');

export class CertsError extends Error {
  readonly code: CertsErrorCode;
  /** For CA refusals: the code the CA server gave (e.g. `DENIED_NOT_ON_NODE`), when it sent one. */
  readonly reason: string | undefined;
  readonly [marker] = true;

  constructor(code: CertsErrorCode, message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options);
    this.name = 'CertsError';
    this.code = code;
    this.reason = options?.reason;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isCertsError(value: unknown): value is CertsError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** Wrap anything thrown into a CertsError, keeping CertsErrors as they are. */
export function asCertsError(error: unknown, code: CertsErrorCode, context: string): CertsError {
  if (CertsError.isCertsError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new CertsError(code, `${context}: ${detail}`, { cause: error });
}
