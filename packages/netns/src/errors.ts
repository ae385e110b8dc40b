/** What went wrong, stable across versions. */
export type NetnsErrorCode =
  /** The native addon is not built on this machine (`reason` says why: not Linux, no compiler, …). */
  | 'UNAVAILABLE'
  /** Entering the namespace failed: the fd is not a namespace (EINVAL), or no CAP_SYS_ADMIN (EPERM). */
  | 'SETNS_FAILED'
  /** The fd is not a network namespace. */
  | 'NOT_A_NAMESPACE'
  /** Any other failing syscall; `errno` and `syscall` name it. */
  | 'ERRNO'
  /** A caller mistake (not an address literal, not a socket with an fd, …). */
  | 'INVALID_ARGUMENT';

const brand = Symbol.for('@ambient-ts/netns.NetnsError');

export class NetnsError extends Error {
  override readonly name = 'NetnsError';
  readonly code: NetnsErrorCode;
  /** errno name (EBADF, EPERM, …) when a syscall failed. */
  readonly errno: string | undefined;
  /** The failing syscall, e.g. `setns`, `setsockopt(SO_MARK)`. */
  readonly syscall: string | undefined;
  readonly [brand] = true;

  constructor(code: NetnsErrorCode, message: string, details: { errno?: string; syscall?: string } = {}) {
    super(message);
    this.code = code;
    this.errno = details.errno;
    this.syscall = details.syscall;
  }
}

/** True for a NetnsError from any copy of this package. */
export function isNetnsError(value: unknown): value is NetnsError {
  return typeof value === 'object' && value !== null && (value as { [brand]?: unknown })[brand] === true;
}

const codes = new Set<string>(['SETNS_FAILED', 'NOT_A_NAMESPACE', 'ERRNO', 'INVALID_ARGUMENT']);

/** Runs a native call, turning what it throws into a NetnsError (the message prefixed with `what`). */
export function native<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (isNetnsError(error)) throw error; // UNAVAILABLE, or already typed
    const raw = error as { code?: unknown; errno?: unknown; syscall?: unknown; message?: unknown };
    const code = typeof raw.code === 'string' && codes.has(raw.code) ? (raw.code as NetnsErrorCode) : 'ERRNO';
    throw new NetnsError(code, `${what}: ${String(raw.message)}`, {
      ...(typeof raw.errno === 'string' ? { errno: raw.errno } : {}),
      ...(typeof raw.syscall === 'string' ? { syscall: raw.syscall } : {}),
    });
  }
}
