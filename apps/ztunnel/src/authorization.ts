// L4 authorization for inbound connections: the store selects the policies that apply to the destination
// workload (ztunnel-facts §6.2), the policy package evaluates them. The store already holds domain policies
// (discovery converts each Authorization when it arrives; one that cannot be understood is NACKed and
// stored as its fail-closed stand-in), so nothing is converted on the data path.
import type { DiscoveryStore, Workload } from '@ambient-ts/discovery';
import { evaluateL4, type AuthorizationPolicy, type AuthzDecision, type L4Connection } from '@ambient-ts/policy';
import type { Logger } from 'pino';

export class Authorizer {
  readonly #store: DiscoveryStore;
  readonly #log: Logger;
  readonly #infoLogging: boolean;
  // One array per workload, kept until the store changes: the evaluator indexes a reused array.
  readonly #perWorkload = new Map<string, AuthorizationPolicy[]>();
  #storeVersion = -1;

  constructor(store: DiscoveryStore, log: Logger, infoLogging: boolean) {
    this.#store = store;
    this.#log = log;
    this.#infoLogging = infoLogging;
  }

  #policiesFor(workload: Workload): AuthorizationPolicy[] {
    if (this.#store.version !== this.#storeVersion) {
      this.#perWorkload.clear();
      this.#storeVersion = this.#store.version;
    }
    let policies = this.#perWorkload.get(workload.uid);
    if (!policies) {
      policies = this.#store.policiesFor(workload);
      this.#perWorkload.set(workload.uid, policies);
    }
    return policies;
  }

  /** Decide an inbound connection to `workload` (never throws). */
  check(workload: Workload, connection: L4Connection): AuthzDecision {
    const policies = this.#policiesFor(workload);
    const decision = evaluateL4(policies, connection);
    const fields = { workload: workload.uid, policy: decision.policy, reason: decision.reason, ...connection };
    if (this.#infoLogging)
      this.#log.info(fields, decision.allowed ? 'policy allowed connection' : 'policy denied connection');
    else this.#log.debug(fields, decision.allowed ? 'policy allowed connection' : 'policy denied connection');
    for (const dryRun of decision.dryRun) this.#log.info({ ...fields, dryRun }, 'dry-run policy matched');
    return decision;
  }
}
