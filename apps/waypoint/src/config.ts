// The waypoint's configuration, read from the environment with the names Istio's proxies use (ztunnel's
// XDS_ADDRESS/CA_ADDRESS/..., the pod downward-API variables) plus documented additions. This is the only
// file of the app that touches process.env; everything downstream takes the typed Config.
import type { PathNormalization } from '@ambient-ts/policy';
import { formatIstioIdentity } from '@ambient-ts/spiffe';
import type { ControlPlaneConfig, Env, OperatorConfig, VariableHelp } from '@ambient-ts/runtime';
import {
  controlPlaneVariables,
  EnvError,
  formatHelp,
  operatorVariables,
  parseChoice,
  parseDuration,
  parseIp,
  read,
  readControlPlane,
  readOperator,
  withPrefix,
} from '@ambient-ts/runtime';
import { configError } from './errors.ts';

/** XDS_ADDRESS … SECRET_TTL (see @ambient-ts/runtime readControlPlane) plus the waypoint's own settings. */
export interface Config extends ControlPlaneConfig, OperatorConfig {
  /** Who this waypoint is: the Gateway it implements and the identity it presents. */
  self: {
    podName: string;
    podNamespace: string;
    gatewayName: string;
    serviceAccount: string;
    trustDomain: string;
    /** The address the HBONE listener binds (the waypoint pod's IP; a loopback address on one machine). */
    instanceIp: string;
    nodeName?: string;
  };
  /** meshConfig rootNamespace: where GatewayClass-targeted policies live. */
  rootNamespace: string;
  hbonePort: number;
  /** How long to wait for the first bytes of an undeclared port before treating it as TCP. */
  protocolDetectionTimeoutMs: number;
  pathNormalization: PathNormalization;
  proxyMetadata: Record<string, string>;
}

/** The table behind `waypoint --help`: every variable, its default and meaning. */
export const variables: VariableHelp[] = [
  ['INSTANCE_IP', '(required)', 'address the HBONE listener binds (the waypoint pod IP, e.g. 127.0.2.10 locally)'],
  ['POD_NAMESPACE', '(required)', "the waypoint's namespace (its Gateway's namespace)"],
  ['POD_NAME', 'GATEWAY_NAME', 'pod name, used in the xDS node id'],
  ['GATEWAY_NAME', 'POD_NAME without its ReplicaSet/pod suffix', 'name of the istio-waypoint Gateway implemented'],
  ['SERVICE_ACCOUNT', 'GATEWAY_NAME', 'identity spiffe://<TRUST_DOMAIN>/ns/<POD_NAMESPACE>/sa/<SERVICE_ACCOUNT>'],
  ['TRUST_DOMAIN', 'cluster.local', 'trust domain of the mesh'],
  ...controlPlaneVariables,
  ['NODE_NAME', '', 'node the waypoint runs on (xDS node metadata)'],
  ['ROOT_NAMESPACE', 'istio-system', 'meshConfig rootNamespace (GatewayClass-targeted policies)'],
  ['LOCAL_XDS_PATH / LOCAL_XDS (content)', '', 'the static config is a LocalConfig plus Kubernetes L7 objects'],
  ['PROTOCOL_DETECTION_TIMEOUT', '5s', 'undeclared ports: wait this long for client bytes, then treat as TCP'],
  ['PATH_NORMALIZATION', 'BASE', 'NONE, BASE, MERGE_SLASHES or DECODE_AND_MERGE_SLASHES (meshConfig)'],
  ['ISTIO_META_<K>', '', 'xDS node metadata'],
  ...operatorVariables({ logFormat: 'json', poolReleaseMs: 3_600_000 }),
];

export function helpText(): string {
  return formatHelp(
    [
      'waypoint — the ambient-mesh L7 proxy (ambient-ts): HBONE in, AuthorizationPolicy, RequestAuthentication',
      'and HTTPRoute, HBONE out.',
    ],
    'waypoint',
    variables,
  );
}

/** `waypoint-7c9f8d6b5-x2x4z` → `waypoint` (Deployment pods); anything else as is. */
export function gatewayNameFromPod(podName: string): string {
  return /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(podName)?.[1] ?? podName;
}

function self(env: Env): Config['self'] {
  const instanceIp = env['INSTANCE_IP'];
  if (!instanceIp) throw configError('INSTANCE_IP', 'is required: the address the HBONE listener (15008) binds');
  const podNamespace = env['POD_NAMESPACE'];
  if (!podNamespace) throw configError('POD_NAMESPACE', "is required: the waypoint's (its Gateway's) namespace");
  const podName = env['POD_NAME'] || env['GATEWAY_NAME'];
  if (!podName) throw configError('GATEWAY_NAME', 'is required when POD_NAME is not set: the waypoint Gateway name');
  const gatewayName = env['GATEWAY_NAME'] || gatewayNameFromPod(podName);
  const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  if (!dnsLabel.test(gatewayName)) throw configError('GATEWAY_NAME', `"${gatewayName}" is not a DNS label`);
  if (!dnsLabel.test(podNamespace)) throw configError('POD_NAMESPACE', `"${podNamespace}" is not a DNS label`);
  return {
    podName,
    podNamespace,
    gatewayName,
    serviceAccount: env['SERVICE_ACCOUNT'] || gatewayName,
    trustDomain: env['TRUST_DOMAIN'] || 'cluster.local',
    instanceIp: parseIp('INSTANCE_IP', instanceIp),
    ...(env['NODE_NAME'] ? { nodeName: env['NODE_NAME'] } : {}),
  };
}

/** Build the Config from an environment; throws WaypointError INVALID_CONFIG naming the first bad variable. */
function buildConfig(env: Env): Config {
  const controlPlane = readControlPlane(env, { served: 'services', certificates: 'the waypoint certificate' });
  const config: Config = {
    ...controlPlane,
    ...readOperator(env, { logFormat: 'json', poolReleaseMs: 3_600_000 }),
    self: self(env),
    rootNamespace: env['ROOT_NAMESPACE'] || 'istio-system',
    hbonePort: 15008,
    protocolDetectionTimeoutMs: read(env, 'PROTOCOL_DETECTION_TIMEOUT', 5000, parseDuration),
    pathNormalization: read(
      env,
      'PATH_NORMALIZATION',
      'BASE' as PathNormalization,
      parseChoice<PathNormalization>(['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']),
    ),
    proxyMetadata: withPrefix(env, 'ISTIO_META_'),
  };
  return config;
}

/** Build the Config from an environment; throws WaypointError INVALID_CONFIG naming the first bad variable. */
export function parseConfig(env: Env): Config {
  try {
    return buildConfig(env);
  } catch (error) {
    if (EnvError.isEnvError(error)) throw configError(error.variable, error.detail);
    throw error;
  }
}

/** The one place the process environment is read. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** spiffe://<trust domain>/ns/<namespace>/sa/<service account>: what the waypoint presents. */
export function waypointIdentity(config: Config): string {
  return formatIstioIdentity({
    trustDomain: config.self.trustDomain,
    namespace: config.self.podNamespace,
    serviceAccount: config.self.serviceAccount,
  });
}

/** The config as printed at start-up and in /config_dump (tokens and inline secrets redacted). */
export { redactConfig as redactedConfig } from '@ambient-ts/runtime';
