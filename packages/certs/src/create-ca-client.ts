// The CA client a proxy's configuration asks for: an in-process CA (FAKE_CA) or Istio's CA API
// (CA_ADDRESS, CA_ROOT_CA, AUTH_TOKEN, CLUSTER_ID, SECRET_TTL, CA_HEADER_*, ALT_CA_HOSTNAME), the same
// way for ztunnel and the waypoint.
import type { CaClient } from './ca-client.ts';
import type { RootCertSource } from './ca-sources.ts';
import { CertsError } from './errors.ts';
import { IstioCaClient } from './istio-ca-client.ts';
import { LocalCa } from './local-ca.ts';

/** The CA settings of a proxy's configuration (the shape @ambient-ts/runtime's readControlPlane reads). */
export interface CaClientSettings {
  fakeCa: boolean;
  /** Required unless `fakeCa`. */
  caAddress?: string;
  caRootCa: RootCertSource;
  altCaHostname?: string;
  clusterId: string;
  /** Requested certificate lifetime. */
  secretTtlMs: number;
  caHeaders: Record<string, string>;
}

export interface CaClientRole {
  /** The trust domain an in-process CA issues for (the proxy's own). */
  trustDomain: string;
  /** Node (shared) mode asks for workload identities via ImpersonatedIdentity; a waypoint or a dedicated
   * proxy asks for its own identity only. */
  impersonate: boolean;
  /** The bearer token, read on every request (e.g. @ambient-ts/runtime's tokenSource(AUTH_TOKEN)); undefined: none. */
  token: () => string | undefined;
}

export async function createCaClient(settings: CaClientSettings, role: CaClientRole): Promise<CaClient> {
  const ttlSeconds = Math.round(settings.secretTtlMs / 1000);
  if (settings.fakeCa) return LocalCa.create({ trustDomain: role.trustDomain, ttlSeconds });
  if (!settings.caAddress) throw new CertsError('INVALID_OPTIONS', 'createCaClient: no CA address and not fakeCa');
  return new IstioCaClient({
    address: settings.caAddress,
    rootCert: settings.caRootCa,
    token: () => role.token() ?? '',
    clusterId: settings.clusterId,
    ttlSeconds,
    impersonate: role.impersonate,
    headers: settings.caHeaders,
    ...(settings.altCaHostname ? { altHostname: settings.altCaHostname } : {}),
  });
}
