// Builders shared by the tests.
import {
  fromXdsAuthorization,
  loadAuthorizationPolicy,
  parseAuthorizationPolicy,
  type AuthorizationPolicy,
  type L4Connection,
  type RequestAttributes,
} from '../src/index.ts';

export function kube(
  spec: Record<string, unknown>,
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string> } = {},
): AuthorizationPolicy {
  return parseAuthorizationPolicy({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name: metadata.name ?? 'p',
      namespace: metadata.namespace ?? 'ns',
      ...(metadata.annotations && { annotations: metadata.annotations }),
    },
    spec,
  });
}

/** Loads even when there are problems (fail-safe form). */
export function lenient(spec: unknown, name = 'p', namespace = 'ns'): AuthorizationPolicy {
  return loadAuthorizationPolicy({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec,
  }).policy;
}

export function xds(input: Record<string, unknown>): AuthorizationPolicy {
  const result = fromXdsAuthorization({ name: 'p', namespace: 'ns', ...input });
  if (!result.ok) throw new Error(result.message);
  return result.policy;
}

export const SLEEP = 'spiffe://cluster.local/ns/default/sa/sleep';

export function conn(overrides: Partial<L4Connection> = {}): L4Connection {
  return {
    sourceIp: '10.0.0.1',
    sourceIdentity: SLEEP,
    destinationIp: '10.0.0.2',
    destinationPort: 8080,
    ...overrides,
  };
}

export function req(overrides: Partial<RequestAttributes> = {}): RequestAttributes {
  return {
    method: 'GET',
    host: 'httpbin.foo.svc.cluster.local',
    path: '/',
    sourceIp: '10.0.0.1',
    sourceIdentity: SLEEP,
    destinationIp: '10.96.0.10',
    destinationPort: 8000,
    ...overrides,
  };
}

export function b64(...bytes: number[]): string {
  return Buffer.from(bytes).toString('base64');
}
