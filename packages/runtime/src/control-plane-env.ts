// The control-plane settings every Istio proxy reads the same way (ztunnel-facts §8.2): where xDS and the
// CA are, how to trust and authenticate to them, which cluster and network the proxy is in, and static
// config as the alternative to xDS. ztunnel and the waypoint spread this into their own Config.
import { EnvError, parseBool, parseDuration, read, withPrefix, type Env } from './env.ts';
import { controlPlaneAddress, type VariableHelp } from './proxy-env.ts';

export interface ControlPlaneConfig {
  /** undefined disables xDS (XDS_ADDRESS=""): then LOCAL_XDS_PATH / LOCAL_XDS must supply everything. */
  xdsAddress?: string;
  caAddress?: string;
  xdsRootCa: string;
  caRootCa: string;
  altXdsHostname?: string;
  altCaHostname?: string;
  /** A file path (re-read per request) or a literal token. */
  authToken: string;
  fakeCa: boolean;
  clusterId: string;
  clusterDomain: string;
  network: string;
  localXdsPath?: string;
  localXds?: string;
  secretTtlMs: number;
  xdsHeaders: Record<string, string>;
  caHeaders: Record<string, string>;
}

/** What the proxy would lack without a control plane, for the two "cannot work" errors. */
export interface ControlPlaneNeeds {
  /** e.g. "workloads": what xDS (or static config) supplies */
  readonly served: string;
  /** e.g. "workload certificates": what the CA supplies */
  readonly certificates: string;
}

const defaultRoot = './var/run/secrets/istio/root-cert.pem';
const defaultToken = './var/run/secrets/tokens/istio-token';

/** `--help` rows of the variables `readControlPlane` reads. */
export const controlPlaneVariables: readonly VariableHelp[] = [
  ['XDS_ADDRESS', 'https://localhost:15012', 'xDS server (istiod); "" disables xDS; a missing scheme means https://'],
  ['CA_ADDRESS', 'same as XDS_ADDRESS', 'Istio CA address; ignored with FAKE_CA'],
  ['XDS_ROOT_CA / CA_ROOT_CA', defaultRoot, 'roots for the xDS / CA TLS channels: file path, SYSTEM, or inline PEM'],
  ['ALT_XDS_HOSTNAME / ALT_CA_HOSTNAME', '', 'name to verify the control-plane certificate against'],
  ['AUTH_TOKEN', defaultToken, 'bearer token: a file path (re-read per request) or the literal token'],
  ['FAKE_CA', 'false', 'use an in-process self-signed CA instead of CA_ADDRESS'],
  ['CLUSTER_ID (ISTIO_META_CLUSTER_ID wins)', 'Kubernetes', 'sent as the clusterid header to xDS and the CA'],
  ['CLUSTER_DOMAIN', 'cluster.local', 'DNS suffix of services'],
  ['NETWORK', '', "this proxy's network"],
  ['LOCAL_XDS_PATH / LOCAL_XDS', '', 'static config (file path / inline YAML) instead of or beside xDS; exclusive'],
  ['SECRET_TTL', '24h', 'requested certificate lifetime'],
  ['XDS_HEADER_<name> / CA_HEADER_<name>', '', 'extra gRPC metadata'],
];

/** Read the control-plane settings; throws EnvError naming the first bad or missing variable. */
export function readControlPlane(env: Env, needs: ControlPlaneNeeds): ControlPlaneConfig {
  if (env['LOCAL_XDS_PATH'] && env['LOCAL_XDS']) {
    throw new EnvError('LOCAL_XDS', 'LOCAL_XDS_PATH and LOCAL_XDS are mutually exclusive; set one');
  }
  const defaultXds = env['KUBERNETES_SERVICE_HOST']
    ? 'https://istiod.istio-system.svc:15012'
    : 'https://localhost:15012';
  const xdsAddress = controlPlaneAddress(env, 'XDS_ADDRESS') ?? defaultXds;
  const caAddress = controlPlaneAddress(env, 'CA_ADDRESS') ?? (xdsAddress || defaultXds);
  const config: ControlPlaneConfig = {
    ...(xdsAddress ? { xdsAddress } : {}),
    ...(caAddress ? { caAddress } : {}),
    xdsRootCa: env['XDS_ROOT_CA'] || defaultRoot,
    caRootCa: env['CA_ROOT_CA'] || defaultRoot,
    ...(env['ALT_XDS_HOSTNAME'] ? { altXdsHostname: env['ALT_XDS_HOSTNAME'] } : {}),
    ...(env['ALT_CA_HOSTNAME'] ? { altCaHostname: env['ALT_CA_HOSTNAME'] } : {}),
    authToken: env['AUTH_TOKEN'] || defaultToken,
    fakeCa: read(env, 'FAKE_CA', false, parseBool),
    clusterId: env['ISTIO_META_CLUSTER_ID'] || env['CLUSTER_ID'] || 'Kubernetes',
    clusterDomain: env['CLUSTER_DOMAIN'] || 'cluster.local',
    network: env['NETWORK'] ?? '',
    ...(env['LOCAL_XDS_PATH'] ? { localXdsPath: env['LOCAL_XDS_PATH'] } : {}),
    ...(env['LOCAL_XDS'] ? { localXds: env['LOCAL_XDS'] } : {}),
    secretTtlMs: read(env, 'SECRET_TTL', 24 * 3_600_000, parseDuration),
    xdsHeaders: withPrefix(env, 'XDS_HEADER_'),
    caHeaders: withPrefix(env, 'CA_HEADER_'),
  };
  if (!config.xdsAddress && !config.localXdsPath && !config.localXds) {
    throw new EnvError(
      'XDS_ADDRESS',
      `xDS is disabled and no LOCAL_XDS_PATH or LOCAL_XDS is set: there would be no ${needs.served} to serve`,
    );
  }
  if (!config.fakeCa && !config.caAddress) {
    throw new EnvError(
      'CA_ADDRESS',
      `no CA address and FAKE_CA is not set: ${needs.certificates} could not be obtained`,
    );
  }
  return config;
}
