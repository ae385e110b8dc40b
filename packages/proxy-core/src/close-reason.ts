// Why a proxied connection ended, as data. The response flag (metrics) and the access log's `error`
// are derived from it in one place, so no caller decides a flag by reading a message.
import type { SpliceResult } from '@ambient-ts/hbone';
import type { ResponseFlags } from '@ambient-ts/telemetry';

export type CloseReason =
  /** Its endpoints ended it: both directions finished (no message), or one side reset / went away. */
  | { readonly kind: 'peer'; readonly message?: string }
  /** It broke or could not be set up (I/O error, upstream connect failure); `flags` when it counts as a failure. */
  | { readonly kind: 'error'; readonly message: string; readonly flags?: ResponseFlags }
  /** Authorization denied it, at admission or when a policy change re-checked it. Flag `DENY`. */
  | { readonly kind: 'policy'; readonly message: string }
  /** Closed by the proxy's drain (the termination deadline passed). */
  | { readonly kind: 'drain'; readonly message: string };

export type CloseKind = CloseReason['kind'];

/** How a connection ended: its byte counts and why. */
export interface ConnectionEnd {
  /** Bytes from the downstream (client) side toward the upstream. */
  requestBytes: number;
  /** Bytes from the upstream back to the client. */
  responseBytes: number;
  reason: CloseReason;
}

/** What the access log and the metrics carry for a close reason. */
export interface CloseReport {
  /** The access log's `error` field; absent for a clean close. */
  error?: string;
  /** The `response_flags` label; absent means `-`. */
  flags?: ResponseFlags;
}

export function closeReport(reason: CloseReason): CloseReport {
  switch (reason.kind) {
    case 'peer':
      return reason.message ? { error: reason.message } : {};
    case 'error':
      return reason.flags && reason.flags !== '-'
        ? { error: reason.message, flags: reason.flags }
        : { error: reason.message };
    case 'policy':
      return { error: reason.message, flags: 'DENY' };
    case 'drain':
      return { error: reason.message };
  }
}

/** The reason a splice gives when nobody closed it from outside. */
export function spliceCloseReason(result: SpliceResult): CloseReason {
  if (result.outcome === 'clean') return { kind: 'peer' };
  const message = result.error?.message ?? result.outcome;
  return result.outcome === 'reset' ? { kind: 'peer', message } : { kind: 'error', message };
}

/** A connection that ended before any byte was carried. */
export function notCarried(reason: CloseReason): ConnectionEnd {
  return { requestBytes: 0, responseBytes: 0, reason };
}
