// Every failure this package reports, with a stable code. Messages name the policy and the field.

export type PolicyErrorCode =
  /** A Kubernetes-shaped AuthorizationPolicy/RequestAuthentication could not be understood (strict parse). */
  | 'INVALID_POLICY'
  /** YAML text could not be parsed. */
  | 'INVALID_YAML'
  /** A JWKS could not be fetched or parsed. */
  | 'JWKS_FETCH_FAILED';

const marker = Symbol.for('@ambient-ts/policy/PolicyError');

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  readonly [marker] = true;

  constructor(code: PolicyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isPolicyError(value: unknown): value is PolicyError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
