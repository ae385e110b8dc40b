// What the store takes in one atomic update and what it tells subscribers afterwards.
import type { AuthorizationPolicy } from '@ambient-ts/policy';
import type { Service, Workload } from '../model.ts';

/** One push: applied as a whole, then announced in one StoreChange. */
export interface StoreUpdate {
  readonly workloads?: readonly Workload[];
  /** workload uids */
  readonly removeWorkloads?: readonly string[];
  readonly services?: readonly Service[];
  /** `namespace/hostname` keys */
  readonly removeServices?: readonly string[];
  /** Authorization policies in the domain model (xDS and static ones are converted by policy's converter) */
  readonly policies?: readonly AuthorizationPolicy[];
  /** `namespace/name` keys */
  readonly removePolicies?: readonly string[];
  /**
   * Address-type removals by xDS name: tried as a workload uid first, then as a `namespace/hostname`
   * service (names whose hostname part contains `/` are skipped), as ztunnel does.
   */
  readonly removeAddresses?: readonly string[];
}

export interface Changes<T> {
  /** new or replaced */
  readonly upserted: readonly T[];
  /** the removed values as they were */
  readonly removed: readonly T[];
}

export interface StoreChange {
  readonly workloads: Changes<Workload>;
  readonly services: Changes<Service>;
  readonly policies: Changes<AuthorizationPolicy>;
}

export type StoreListener = (change: StoreChange) => void;
