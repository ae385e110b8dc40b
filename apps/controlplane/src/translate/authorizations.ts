// The L4 translation itself belongs to @ambient-ts/policy (load the Kubernetes object into its model, then
// istiod's ztunnel translation); this adapter maps its problems onto fields and lines of the input.
import * as policyPackage from '@ambient-ts/policy';
import type { JsonRecord } from './fields.ts';
import type { L4Converter } from './policies.ts';

type Severity = 'error' | 'warning';

/** The part of @ambient-ts/policy this app relies on. */
interface PolicyApi {
  loadAuthorizationPolicy(
    input: unknown,
    options?: { defaultNamespace?: string },
  ): {
    policy: unknown;
    problems: readonly { severity: Severity; path: readonly (string | number)[]; message: string; effect: string }[];
  };
  translateForZtunnel(
    policy: unknown,
    options: { rootNamespace: string },
  ): { authorization: JsonRecord | undefined; dropped: readonly string[]; status?: { message: string } };
}

const api = policyPackage as unknown as Partial<PolicyApi>;

/**
 * A broken policy is still sent in the fail-safe form the policy loader produces (an ALLOW that fails to
 * load allows nothing, a DENY denies everything in its scope): dropping it would widen access.
 */
export const toAuthorization: L4Converter = (policy, options) => {
  if (api.loadAuthorizationPolicy === undefined || api.translateForZtunnel === undefined) {
    return {
      problems: [
        {
          severity: 'error',
          path: [],
          message:
            '@ambient-ts/policy does not provide loadAuthorizationPolicy/translateForZtunnel; policy not translated',
        },
      ],
    };
  }
  const loaded = api.loadAuthorizationPolicy(policy);
  const problems = loaded.problems.map((p) => ({
    severity: p.severity,
    path: p.path,
    message: p.effect === '' ? p.message : `${p.message} (${p.effect})`,
  }));
  const translated = api.translateForZtunnel(loaded.policy, options);
  if (translated.status !== undefined) {
    problems.push({ severity: 'warning', path: ['spec', 'rules'], message: translated.status.message });
  }
  return { ...(translated.authorization === undefined ? {} : { authorization: translated.authorization }), problems };
};
