// Every failure this package reports, with a stable code. Messages say what was refused and what to do.

export type PkiErrorCode =
  /** A key other than EC P-256/P-384 or RSA 2048–8192 bits. */
  | 'KEY_UNSUPPORTED'
  /** A value given to a builder that cannot be used (e.g. a SAN URI that is not a URI). */
  | 'INVALID_INPUT'
  /** A CSR that is not a PEM/DER CertificationRequest. */
  | 'CSR_MALFORMED'
  /** A CSR whose self-signature does not verify, or is made with an algorithm we do not accept. */
  | 'CSR_BAD_SIGNATURE';

const marker = Symbol.for('@ambient-ts/pki/PkiError');

export class PkiError extends Error {
  readonly code: PkiErrorCode;
  readonly [marker] = true;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isPkiError(value: unknown): value is PkiError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
