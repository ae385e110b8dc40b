// Which pods each selector (Service, selector policy) picks, computed once through a label index so a
// mesh of many pods and many selectors does not cost pods × selectors label comparisons.
import type { PodRec } from './model.ts';

export function labelsMatch(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

export class PodIndex {
  private readonly byNamespace = new Map<string, PodRec[]>();
  /** `namespace\0key\0value` → pods carrying that label. */
  private readonly byLabel = new Map<string, PodRec[]>();

  constructor(pods: readonly PodRec[]) {
    for (const pod of pods) {
      const ns = pod.meta.namespace;
      push(this.byNamespace, ns, pod);
      for (const [key, value] of Object.entries(pod.meta.labels)) push(this.byLabel, `${ns}\0${key}\0${value}`, pod);
    }
  }

  /** Pods of `namespaces` whose labels include every pair of `selector` (an empty selector picks all of them). */
  select(namespaces: Iterable<string>, selector: Readonly<Record<string, string>>): PodRec[] {
    const out: PodRec[] = [];
    const pairs = Object.entries(selector);
    for (const ns of namespaces) {
      let candidates = this.byNamespace.get(ns) ?? [];
      for (const [key, value] of pairs) {
        const narrower = this.byLabel.get(`${ns}\0${key}\0${value}`) ?? [];
        if (narrower.length < candidates.length) candidates = narrower;
      }
      for (const pod of candidates) if (labelsMatch(selector, pod.meta.labels)) out.push(pod);
    }
    return out;
  }

  namespaces(): Iterable<string> {
    return this.byNamespace.keys();
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** pod → the things whose selector picks it, in the order the things were given. */
export function invert<T>(selections: Iterable<readonly [T, readonly PodRec[]]>): Map<PodRec, T[]> {
  const out = new Map<PodRec, T[]>();
  for (const [thing, pods] of selections) for (const pod of pods) push(out, pod, thing);
  return out;
}
