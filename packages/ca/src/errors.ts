// Every failure this package reports, with a stable code. Messages say what was refused and what to do.
// A refusal over gRPC carries the code in the `x-ambient-ts-error` trailer (a CA client's `reason`).

export type CaErrorCode =
  // Inputs given to this package
  | 'INVALID_OPTIONS'
  | 'IDENTITY_INVALID'
  | 'KEY_UNSUPPORTED'
  // Workload CSRs (parsing failures come from @ambient-ts/pki with the same codes)
  | 'CSR_MALFORMED'
  | 'CSR_BAD_SIGNATURE'
  | 'CSR_NO_SAN'
  | 'CSR_MULTIPLE_SANS'
  | 'CSR_NOT_SPIFFE'
  | 'CSR_IDENTITY_MISMATCH'
  // Signing CA material
  | 'CA_BAD_PEM'
  | 'CA_NOT_A_CA'
  | 'CA_KEY_MISMATCH'
  | 'CA_EXPIRED'
  /** The CA failed to sign (a bug; details stay in the CA's logs). */
  | 'CA_CALL_FAILED'
  // Authentication and node authorization
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_WRONG_CLUSTER'
  | 'DENIED_TRUST_DOMAIN'
  | 'DENIED_NOT_OWN_IDENTITY'
  | 'DENIED_NO_IMPERSONATION'
  | 'DENIED_UNKNOWN_NODE'
  | 'DENIED_NOT_ON_NODE';

const marker = Symbol.for('@ambient-ts/ca/CaError');

export class CaError extends Error {
  readonly code: CaErrorCode;
  readonly [marker] = true;

  constructor(code: CaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isCaError(value: unknown): value is CaError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
