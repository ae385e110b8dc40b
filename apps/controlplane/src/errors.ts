// Failures of the control plane app itself (bad options, unreadable files, command-line misuse). Problems
// in the YAML are not errors: they come back as `Problem` values so every one of them can be reported.

export type ControlPlaneErrorCode =
  | 'INVALID_OPTIONS'
  | 'USAGE'
  /** The YAML to serve at start-up has error-level problems: there is no good config to fall back on. */
  | 'CONFIG_INVALID'
  /** The state directory cannot be used (unreadable, half-written CA material, key not matching the root). */
  | 'STATE_INVALID'
  /** A serving port is taken by another process. */
  | 'PORT_IN_USE'
  /** A serving port cannot be bound for another reason (address not local, permission). */
  | 'BIND_FAILED'
  /** close() was called; the control plane does no more updates. */
  | 'CLOSED';

const marker = Symbol.for('@ambient-ts/controlplane/ControlPlaneError');

export class ControlPlaneError extends Error {
  readonly code: ControlPlaneErrorCode;
  readonly [marker] = true;

  constructor(code: ControlPlaneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlPlaneError';
    this.code = code;
  }

  static isControlPlaneError(value: unknown): value is ControlPlaneError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
