// One L7 object (plain Kubernetes JSON, as the control plane sends it under the Struct type URL) → its
// checked model, or the reasons it must be rejected. Pure; the L7 store decides what to keep.
import {
  loadAuthorizationPolicy,
  loadRequestAuthentication,
  type AuthorizationPolicy,
  type PolicyProblem,
  type RequestAuthenticationPolicy,
} from '@ambient-ts/policy';
import { isRecord, parseHttpRoute, problemText, type HttpRoute } from '@ambient-ts/routes';
import { parseGateway, type WaypointGateway } from './gateway.ts';

export type L7Object =
  | { readonly kind: 'AuthorizationPolicy'; readonly policy: AuthorizationPolicy }
  | { readonly kind: 'RequestAuthentication'; readonly policy: RequestAuthenticationPolicy }
  | { readonly kind: 'HTTPRoute'; readonly route: HttpRoute }
  | { readonly kind: 'Gateway'; readonly gateway: WaypointGateway };

export type L7Kind = L7Object['kind'];

export interface LoadedL7 {
  /** Set when the object is valid. */
  readonly object?: L7Object;
  /** Why it is rejected: `<Kind> <ns>/<name>: <field>: <what>`. */
  readonly error?: string;
  /** For a rejected policy: the policy package's fail-safe reading, used when no earlier version exists. */
  readonly failSafe?: L7Object;
  readonly warnings: readonly string[];
}

const kinds: readonly L7Kind[] = ['AuthorizationPolicy', 'RequestAuthentication', 'HTTPRoute', 'Gateway'];

/** `Kind/namespace/name` → its parts (the control plane's resource names). */
export function splitResourceName(name: string): { kind?: string; namespace: string; name: string } {
  const parts = name.split('/');
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  return { namespace: 'default', name };
}

function summarize(label: string, errors: readonly string[]): string {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1).join('; ')})` : '';
  return `${label}: ${errors[0]}${more}`;
}

function policyErrors(problems: readonly PolicyProblem[]): { errors: string[]; warnings: string[] } {
  const line = (problem: PolicyProblem) => `${problem.field}: ${problem.message}`;
  return {
    errors: problems.filter((p) => p.severity === 'error').map(line),
    warnings: problems.filter((p) => p.severity === 'warning').map((p) => `${line(p)} (${p.effect})`),
  };
}

/** Load one L7 resource received under `resourceName`. Never throws. */
export function loadL7Object(resourceName: string, json: unknown): LoadedL7 {
  const fallback = splitResourceName(resourceName);
  if (!isRecord(json))
    return { error: `${resourceName}: expected a Kubernetes object, found ${typeof json}`, warnings: [] };
  const kind = json['kind'];
  const metadata = isRecord(json['metadata']) ? json['metadata'] : {};
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : fallback.namespace;
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : fallback.name;
  const label = `${String(kind)} ${namespace}/${name}`;
  if (typeof kind !== 'string' || !(kinds as readonly string[]).includes(kind)) {
    return {
      error: `${resourceName}: kind: unsupported kind ${JSON.stringify(kind)} (the waypoint takes ${kinds.join(', ')})`,
      warnings: [],
    };
  }
  switch (kind as L7Kind) {
    case 'AuthorizationPolicy':
    case 'RequestAuthentication': {
      const { policy, problems } =
        kind === 'AuthorizationPolicy'
          ? loadAuthorizationPolicy(json, { defaultNamespace: namespace })
          : loadRequestAuthentication(json, { defaultNamespace: namespace });
      const object = { kind, policy } as L7Object;
      const { errors, warnings } = policyErrors(problems);
      if (errors.length > 0) return { error: summarize(label, errors), failSafe: object, warnings };
      return { object, warnings };
    }
    case 'HTTPRoute': {
      const parsed = parseHttpRoute(json, { name, namespace });
      const errors = parsed.problems.filter((problem) => problem.severity === 'error').map(problemText);
      if (!parsed.route) return { error: summarize(label, errors), warnings: [] };
      return { object: { kind: 'HTTPRoute', route: parsed.route }, warnings: parsed.route.warnings };
    }
    case 'Gateway': {
      const parsed = parseGateway(json, { name, namespace });
      if (!parsed.gateway) return { error: summarize(label, parsed.errors), warnings: [] };
      return { object: { kind: 'Gateway', gateway: parsed.gateway }, warnings: [] };
    }
  }
}
