// Weighted choice among a rule's backendRefs (Gateway API): weight 0 is never chosen; all zero means no
// backend (the rule answers 500).
import type { WeightedBackendRef } from './model.ts';

/** `random` returns [0, 1) like Math.random; injected so tests can pin the choice. */
export function pickBackend<B extends WeightedBackendRef<unknown>>(
  backends: readonly B[],
  random: () => number,
): B | undefined {
  const total = backends.reduce((sum, backend) => sum + backend.weight, 0);
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const backend of backends) {
    if (backend.weight === 0) continue;
    if (point < backend.weight) return backend;
    point -= backend.weight;
  }
  return backends.findLast((backend) => backend.weight > 0);
}
