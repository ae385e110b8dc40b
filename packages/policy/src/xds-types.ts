// `istio.security.Authorization` in proto3 JSON form (lowerCamelCase, enums by name, defaults omitted,
// bytes as base64), as discovery decodes it and the local control plane produces it.
// Field numbers: ztunnel-facts.md §3.2.

/** oneof match_type: exactly one key. `presence` is google.protobuf.Empty, i.e. `{}`. */
export interface XdsStringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly presence?: Readonly<Record<string, never>>;
}

export interface XdsAddress {
  /** 4 or 16 bytes, base64. */
  readonly address?: string;
  /** Prefix length; omitted when 0. */
  readonly length?: number;
}

export interface XdsServiceAccountMatch {
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

export interface XdsMatch {
  readonly namespaces?: readonly XdsStringMatch[];
  readonly notNamespaces?: readonly XdsStringMatch[];
  readonly serviceAccounts?: readonly XdsServiceAccountMatch[];
  readonly notServiceAccounts?: readonly XdsServiceAccountMatch[];
  readonly principals?: readonly XdsStringMatch[];
  readonly notPrincipals?: readonly XdsStringMatch[];
  readonly sourceIps?: readonly XdsAddress[];
  readonly notSourceIps?: readonly XdsAddress[];
  readonly destinationIps?: readonly XdsAddress[];
  readonly notDestinationIps?: readonly XdsAddress[];
  readonly destinationPorts?: readonly number[];
  readonly notDestinationPorts?: readonly number[];
  /** istio.workload.Extension; ignored (as ztunnel does). */
  readonly extensions?: readonly unknown[];
}

/** Matches are ORed. */
export interface XdsClause {
  readonly matches?: readonly XdsMatch[];
}

/** Clauses are ANDed. */
export interface XdsRule {
  readonly clauses?: readonly XdsClause[];
}

export interface XdsAuthorization {
  readonly name?: string;
  readonly namespace?: string;
  /** Omitted = GLOBAL. */
  readonly scope?: 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';
  /** Omitted = ALLOW. */
  readonly action?: 'ALLOW' | 'DENY';
  readonly rules?: readonly XdsRule[];
  /** Omitted = false. */
  readonly dryRun?: boolean;
  readonly extensions?: readonly unknown[];
}
