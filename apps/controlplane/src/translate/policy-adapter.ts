// The policy semantics belong to @ambient-ts/policy: its loaders validate AuthorizationPolicy and
// RequestAuthentication objects, and its translateForZtunnel is istiod's L4 translation. This adapter
// maps their problems onto fields (and so lines) of the input.
import {
  loadAuthorizationPolicy,
  loadRequestAuthentication,
  translateForZtunnel,
  type PolicyProblem,
} from '@ambient-ts/policy';
import type { security } from '@ambient-ts/istio-api';
import type { JsonRecord } from './fields.ts';
import type { FieldPath } from './problems.ts';

/** Validates one AuthorizationPolicy object and translates it to the proto3 JSON of istio.security.Authorization. */
export type L4Converter = (
  policy: JsonRecord,
  options: { rootNamespace: string },
) => {
  /** undefined when ztunnel gets nothing (targetRefs, AUDIT, CUSTOM). */
  readonly authorization?: security.Authorization;
  readonly problems: readonly AdaptedProblem[];
};

export interface AdaptedProblem {
  readonly severity: 'error' | 'warning';
  readonly path: FieldPath;
  readonly message: string;
}

function adapt(problem: PolicyProblem): AdaptedProblem {
  return {
    severity: problem.severity,
    path: problem.path,
    message: problem.effect === '' ? problem.message : `${problem.message} (${problem.effect})`,
  };
}

/**
 * A broken policy is still sent in the fail-safe form the policy loader produces (an ALLOW that fails to
 * load allows nothing, a DENY denies everything in its scope): dropping it would widen access.
 */
export const toAuthorization: L4Converter = (policy, options) => {
  const loaded = loadAuthorizationPolicy(policy);
  const problems = loaded.problems.map(adapt);
  const translated = translateForZtunnel(loaded.policy, options);
  // istiod's status condition: an action ztunnel lacks, or HTTP attributes it cannot enforce
  if (translated.status !== undefined) {
    const action = loaded.policy.action;
    const unsupportedAction = action !== 'ALLOW' && action !== 'DENY';
    problems.push({
      severity: 'warning',
      path: unsupportedAction ? ['spec', 'action'] : ['spec', 'rules'],
      message: unsupportedAction
        ? `${translated.status.message}: not sent to ztunnel (give it targetRefs to have a waypoint enforce it)`
        : translated.status.message,
    });
  }
  const authorization = translated.authorization;
  return { ...(authorization === undefined ? {} : { authorization }), problems };
};

/** Everything the waypoint's loader will find wrong with a RequestAuthentication. */
export function requestAuthenticationProblems(object: JsonRecord): AdaptedProblem[] {
  return loadRequestAuthentication(object).problems.map(adapt);
}
