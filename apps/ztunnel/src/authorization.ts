// L4 authorization for inbound connections: the store selects the policies that apply to the destination
// workload (ztunnel-facts §6.2), the policy package evaluates them. Policies are converted once per xDS
// object; one that cannot be converted fails safe — an ALLOW that allows nothing, a DENY that denies all —
// so a broken policy never widens access.
import type { DiscoveryStore, Workload, XdsAuthorization } from '@ambient-ts/discovery';
import {
  evaluateL4,
  fromXdsAuthorization,
  type AuthorizationPolicy,
  type AuthzDecision,
  type L4Connection,
} from '@ambient-ts/policy';
import type { Logger } from 'pino';

export class Authorizer {
  readonly #store: DiscoveryStore;
  readonly #log: Logger;
  readonly #infoLogging: boolean;
  readonly #converted = new WeakMap<XdsAuthorization, AuthorizationPolicy>();
  // One array per workload, kept until the store changes: the evaluator indexes a reused array.
  readonly #perWorkload = new Map<string, AuthorizationPolicy[]>();
  #storeVersion = -1;

  constructor(store: DiscoveryStore, log: Logger, infoLogging: boolean) {
    this.#store = store;
    this.#log = log;
    this.#infoLogging = infoLogging;
  }

  #convert(policy: XdsAuthorization): AuthorizationPolicy {
    let converted = this.#converted.get(policy);
    if (converted) return converted;
    try {
      converted = fromXdsAuthorization(policy);
    } catch (error) {
      const deny = policy.action === 'DENY';
      this.#log.error(
        { policy: `${policy.namespace ?? ''}/${policy.name ?? ''}`, error: (error as Error).message },
        deny
          ? 'policy cannot be understood; enforcing it as deny-all'
          : 'policy cannot be understood; enforcing it as allow-nothing',
      );
      converted = fromXdsAuthorization({
        name: policy.name,
        namespace: policy.namespace,
        scope: policy.scope,
        action: policy.action,
        rules: deny ? [{}] : [],
      });
    }
    this.#converted.set(policy, converted);
    return converted;
  }

  /** Decide an inbound connection to `workload` (never throws). */
  #policiesFor(workload: Workload): AuthorizationPolicy[] {
    if (this.#store.version !== this.#storeVersion) {
      this.#perWorkload.clear();
      this.#storeVersion = this.#store.version;
    }
    let policies = this.#perWorkload.get(workload.uid);
    if (!policies) {
      policies = this.#store.policiesFor(workload).map((policy) => this.#convert(policy));
      this.#perWorkload.set(workload.uid, policies);
    }
    return policies;
  }

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
