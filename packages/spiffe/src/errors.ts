// Every failure this package reports, with a stable code. Messages name the rule that was broken.

export type SpiffeErrorCode =
  // SPIFFE ID syntax (SPIFFE-ID spec §2)
  | 'SPIFFE_ID_EMPTY'
  | 'SPIFFE_ID_TOO_LONG'
  | 'SPIFFE_ID_WRONG_SCHEME'
  | 'SPIFFE_ID_MISSING_TRUST_DOMAIN'
  | 'SPIFFE_ID_TRUST_DOMAIN_TOO_LONG'
  | 'SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR'
  | 'SPIFFE_ID_HAS_PORT'
  | 'SPIFFE_ID_HAS_USERINFO'
  | 'SPIFFE_ID_HAS_QUERY'
  | 'SPIFFE_ID_HAS_FRAGMENT'
  | 'SPIFFE_ID_PERCENT_ENCODED'
  | 'SPIFFE_ID_EMPTY_SEGMENT'
  | 'SPIFFE_ID_DOT_SEGMENT'
  | 'SPIFFE_ID_TRAILING_SLASH'
  | 'SPIFFE_ID_BAD_PATH_CHAR'
  // Istio identity shape spiffe://<td>/ns/<ns>/sa/<sa>
  | 'ISTIO_IDENTITY_SHAPE'
  // Trust bundles
  | 'BUNDLE_NO_CERTIFICATES'
  | 'BUNDLE_BAD_PEM'
  | 'BUNDLE_NOT_CA'
  // X.509-SVID verification
  | 'SVID_NO_CERTIFICATES'
  | 'SVID_BAD_CERTIFICATE'
  | 'SVID_NO_URI_SAN'
  | 'SVID_MULTIPLE_URI_SANS'
  | 'SVID_BAD_SPIFFE_ID'
  | 'SVID_ROOT_PATH'
  | 'SVID_LEAF_IS_CA'
  | 'SVID_LEAF_KEY_USAGE'
  | 'SVID_LEAF_EXT_KEY_USAGE'
  | 'SVID_SIGNER_NOT_CA'
  | 'SVID_PATH_LENGTH'
  | 'SVID_EXPIRED'
  | 'SVID_NOT_YET_VALID'
  | 'SVID_NO_BUNDLE'
  | 'SVID_UNTRUSTED'
  | 'SVID_TRUST_DOMAIN_MISMATCH';

const marker = Symbol.for('@ambient-ts/spiffe/SpiffeError');

export class SpiffeError extends Error {
  readonly code: SpiffeErrorCode;
  readonly [marker] = true;

  constructor(code: SpiffeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpiffeError';
    this.code = code;
  }

  /** Works across duplicate installs of this package, unlike instanceof. */
  static isSpiffeError(value: unknown): value is SpiffeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
