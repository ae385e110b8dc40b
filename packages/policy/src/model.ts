// The one AuthorizationPolicy model both loaders produce and both evaluators read.
//
// Shape follows Istio's xDS form (rule = AND of clauses, clause = OR of matches, match = AND of
// conditions) because it can express both the Kubernetes form (from/to/when each become a clause) and
// what ztunnel receives, so L4 and L7 evaluation share one matcher.

export type PolicyAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

/** Istio string matching: `abc` exact, `abc*` prefix, `*abc` suffix, `*` presence. */
export type StringMatcher =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'suffix'; readonly value: string }
  | { readonly kind: 'presence' };

/** An IP address or CIDR block (from @ambient-ts/addresses); host bits are masked when matching. */
import type { Cidr } from '@ambient-ts/addresses';
export type { Cidr };

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** `requestPrincipals` values split at the last "/" into issuer and subject matchers. */
export interface RequestPrincipalMatcher {
  readonly issuer: StringMatcher;
  readonly subject: StringMatcher;
  readonly text: string;
}

/** A path value: a plain string matcher, or a `{*}` / `{**}` template compiled to a RegExp. */
export type PathMatcher =
  | { readonly kind: 'string'; readonly matcher: StringMatcher; readonly text: string }
  | { readonly kind: 'template'; readonly regex: RegExp; readonly text: string };

interface ConditionBase {
  /** Where it came from, e.g. `spec.rules[0].from[1].source.notPrincipals` or `rules[0].clauses[0].matches[0].principals`. */
  readonly field: string;
  /** `notX` / `notValues`: true when none of the values matches. */
  readonly negated: boolean;
  /** ztunnel can evaluate it (istiod sends it in the L4 form). */
  readonly l4: boolean;
  /** Only meaningful for HTTP (hosts, methods, paths, request principals, headers, JWT claims). */
  readonly httpOnly: boolean;
}

export type Condition = ConditionBase &
  (
    | {
        readonly attribute:
          | 'source.principal'
          | 'source.namespace'
          | 'source.trustDomain'
          | 'connection.sni'
          | 'request.auth.presenter'
          | 'request.auth.audiences'
          | 'request.host'
          | 'request.method';
        readonly values: readonly StringMatcher[];
      }
    | { readonly attribute: 'source.serviceAccount'; readonly values: readonly ServiceAccountRef[] }
    | { readonly attribute: 'source.ip' | 'remote.ip' | 'destination.ip'; readonly values: readonly Cidr[] }
    | { readonly attribute: 'destination.port'; readonly values: readonly number[] }
    | { readonly attribute: 'request.path'; readonly values: readonly PathMatcher[] }
    | { readonly attribute: 'request.auth.principal'; readonly values: readonly RequestPrincipalMatcher[] }
    | {
        readonly attribute: 'request.auth.claims';
        readonly claim: readonly string[];
        readonly values: readonly StringMatcher[];
      }
    | { readonly attribute: 'request.headers'; readonly header: string; readonly values: readonly StringMatcher[] }
  );

export type ConditionAttribute = Condition['attribute'];

/** All conditions must hold. A match without conditions: see the empty-match notes in the evaluators. */
export interface Match {
  readonly field: string;
  readonly conditions: readonly Condition[];
}

/** Any match may hold; a clause without matches holds. */
export interface Clause {
  readonly kind: 'from' | 'to' | 'when' | 'xds';
  readonly field: string;
  readonly matches: readonly Match[];
}

/** All clauses must hold; a rule without clauses always holds. */
export interface Rule {
  /** Index in the source policy's `rules`. */
  readonly index: number;
  readonly field: string;
  readonly clauses: readonly Clause[];
  /** Some condition is HTTP-only (such ALLOW rules never match on TCP). */
  readonly hasHttpOnly: boolean;
  /** Some condition is not in ztunnel's L4 form (istiod omits such ALLOW rules for ztunnel). */
  readonly hasNonL4: boolean;
  /** Set when loading found the rule unusable; evaluators skip it (why, for explanations). */
  readonly dropped?: string;
}

export interface TargetRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export type XdsScope = 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';

/** How the policy attaches. Selection is the caller's job; see selectForWaypoint / appliesToWorkload. */
export type Attachment =
  | { readonly kind: 'namespace' }
  | { readonly kind: 'selector'; readonly matchLabels: Readonly<Record<string, string>> }
  | { readonly kind: 'targetRefs'; readonly targetRefs: readonly TargetRef[] }
  | { readonly kind: 'xds'; readonly scope: XdsScope };

/** Something wrong with a loaded policy, and what the loader did about it (fail-safe). */
export interface PolicyProblem {
  /** `namespace/name` (or `<unknown>` when the object has no usable metadata). */
  readonly policy: string;
  /** Dotted path of the offending field, e.g. `spec.rules[0].from[0].source.ipBlocks[1]`. */
  readonly field: string;
  /** The same path as keys/indices, for locating it in YAML. */
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** What the loader did, e.g. "rule dropped (ALLOW fails closed)". */
  readonly effect: string;
  /** Set by the YAML loader. */
  readonly location?: { readonly file: string; readonly line: number; readonly column: number };
}

/** The view ztunnel enforces: istiod's translation (L7 parts removed as istiod removes them). */
export interface ZtunnelView {
  readonly scope: XdsScope;
  readonly action: 'ALLOW' | 'DENY';
  readonly rules: readonly Rule[];
  /** Human-readable notes on what the translation dropped. */
  readonly dropped: readonly string[];
}

export interface AuthorizationPolicy {
  readonly kind: 'AuthorizationPolicy';
  /** `namespace/name`, as ztunnel and istiod key policies. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly action: PolicyAction;
  /** CUSTOM only: the extension provider name. */
  readonly provider?: string;
  /** `istio.io/dry-run: "true"` (or xDS `dryRun`): evaluated and reported, never enforced. */
  readonly dryRun: boolean;
  readonly attachment: Attachment;
  readonly rules: readonly Rule[];
  readonly origin: 'kubernetes' | 'xds';
  /** Everything the loader found wrong and how it kept the policy fail-safe; empty when clean. */
  readonly problems: readonly PolicyProblem[];
}

export function policyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
