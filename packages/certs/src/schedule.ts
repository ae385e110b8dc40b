// Pure timing decisions of the certificate manager: when to refresh, how long to back off.

export interface BackoffPolicy {
  /** First retry delay. Default 1 s. */
  initialMs: number;
  /** Cap (ztunnel: 150 s). */
  maxMs: number;
  multiplier: number;
  /** ± fraction applied to each delay, e.g. 0.2 for ±20 %. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 1_000, maxMs: 150_000, multiplier: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (0 = first retry); `random` in [0, 1). Never above the cap. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(0, attempt), 64);
  const base = Math.min(policy.initialMs * policy.multiplier ** exponent, policy.maxMs);
  const jittered = base * (1 + policy.jitter * (2 * random - 1));
  return Math.round(Math.min(policy.maxMs, Math.max(0, jittered)));
}

/**
 * When to refresh a certificate: at half of its lifetime (ztunnel: not_before + lifetime/2), brought
 * forward by up to `jitter` × lifetime so identities issued together do not all renew at once. If that
 * moment has passed (a backdated certificate), half of the remaining lifetime instead, never sooner than
 * one second, so a CA answering with short-lived certificates cannot cause a tight loop.
 */
export function refreshTime(
  validity: { notBefore: Date; notAfter: Date },
  now: number,
  jitter: number,
  random: number,
): number {
  const start = validity.notBefore.getTime();
  const end = validity.notAfter.getTime();
  const lifetime = end - start;
  const planned = start + lifetime * (0.5 - jitter * random);
  if (lifetime > 0 && planned > now) return planned;
  return now + Math.max(1_000, (end - now) / 2);
}
