// Failures of the control plane app itself (bad options, unreadable files, command-line misuse). Problems
// in the YAML are not errors: they come back as `Problem` values so every one of them can be reported.

export type ControlPlaneErrorCode = 'INVALID_OPTIONS' | 'USAGE';

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
