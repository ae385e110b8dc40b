// ztunnel's configuration, read from the environment exactly as Istio's ztunnel reads it (ztunnel-facts
// §8.2), plus documented additions so several ztunnels can share one host. This is the only file of the
// app that touches process.env; everything downstream takes the typed Config.
import type { ControlPlaneConfig, Env, HostPort, OperatorConfig, VariableHelp } from '@ambient-ts/runtime';
import {
  controlPlaneVariables,
  EnvError as ConfigError,
  formatHelp,
  operatorVariables,
  parseBool,
  parseDuration,
  parseHostPort,
  parseInteger,
  read,
  readControlPlane,
  readOperator,
  withPrefix,
} from '@ambient-ts/runtime';

/** A bad environment value: `variable` names it, the message says the accepted form. */
export { EnvError as ConfigError } from '@ambient-ts/runtime';

/** `shared` (in-pod capture), `dedicated` (one workload), `node` (ours: all of a node's workloads, by IP). */
export type ProxyMode = 'shared' | 'dedicated' | 'node';

/** ztunnel's socket mark (0x539): the in-pod and dedicated-mode iptables rules let sockets carrying it pass. */
export const ZTUNNEL_PACKET_MARK = 1337;

/** INPOD_UDS when unset, as in Istio's ztunnel (facts §8.2). */
export const DEFAULT_INPOD_UDS = '/var/run/ztunnel/ztunnel.sock';

/**
 * ENABLE_ORIG_SRC: connect to the app from the client's IP (IP_TRANSPARENT). Unset = `best-effort` (when the
 * pod's listeners could be made transparent), `true` = `required` (a pod whose listeners cannot be is not
 * started), `false` = `off`.
 */
export type OriginalSourceMode = 'best-effort' | 'required' | 'off';

/** XDS_ADDRESS … SECRET_TTL (see @ambient-ts/runtime readControlPlane) plus ztunnel's own settings. */
export interface Config extends ControlPlaneConfig, OperatorConfig {
  proxyMode: ProxyMode;
  /** Dedicated mode: the one workload served. */
  proxyWorkloadInfo?: { namespace: string; name: string; serviceAccount: string };
  nodeName?: string;
  /**
   * PACKET_MARK: SO_MARK on ztunnel's own sockets so its redirect rules let them pass. Istio's default: 1337 in
   * shared mode, unset otherwise; dedicated mode uses 1337 when unset and its 15001 capture listener runs.
   */
  packetMark?: number;
  /** Shared mode: the CNI node agent's ZDS socket (SOCK_SEQPACKET; the agent listens, ztunnel connects). */
  inpodUds: string;
  /** Shared mode: SO_REUSEPORT on the in-pod listeners (INPOD_PORT_REUSE). */
  inpodPortReuse: boolean;
  /** Shared mode: original-source preservation towards the app (ENABLE_ORIG_SRC). */
  originalSource: OriginalSourceMode;
  xdsOnDemand: boolean;
  enableSocks5: boolean;
  http2: { streamWindowSize: number; connectionWindowSize: number; frameSize: number };
  keepalive: { enabled: boolean; timeMs: number; intervalMs: number; retries: number; userTimeoutEnabled: boolean };
  enableResponseBaggage: boolean;
  tls12Enabled: boolean;
  localhostAppTunnel: boolean;
  /** ISTIO_META_* (prefix stripped) and ISTIO_METAJSON_* (parsed) for the xDS node metadata. */
  proxyMetadata: Record<string, unknown>;
  self: { podName?: string; podNamespace?: string; serviceAccount?: string; trustDomain: string; instanceIp?: string };
  logging: OperatorConfig['logging'] & { authzPolicyInfo: boolean };
  /** Additions (not in Istio's ztunnel) so several ztunnels can run on one host. */
  socks5Address: HostPort;
  /** Dedicated mode's outbound capture listener: `[::]:15001` (`0.0.0.0:15001` with IPV6_ENABLED=false). */
  outboundCaptureAddress: HostPort;
  /**
   * Shared mode with POD_NAME, POD_NAMESPACE and SERVICE_ACCOUNT set: ztunnel's own HBONE inbound (facts §1.12) in
   * its own netns, `[::]:15008` (`0.0.0.0:15008` with IPV6_ENABLED=false).
   */
  selfInboundAddress: HostPort;
  dns: DnsConfig;
}

/** The DNS proxy (facts §10): ISTIO_META_DNS_CAPTURE, ISTIO_META_DNS_PROXY_ADDR, PREFERED_SERVICE_NAMESPACE. */
export interface DnsConfig {
  /** ISTIO_META_DNS_CAPTURE: on when unset; any value other than "true" (any case) turns it off. */
  capture: boolean;
  /** ISTIO_META_DNS_PROXY_ADDR (default localhost:15053; `localhost` = 127.0.0.1 and ::1 with IPv6). */
  address: { hosts: string[]; port: number };
  /** Whether the address was set (a taken default is skipped with a warning; a set one must bind). */
  addressSet: boolean;
  /** PREFERED_SERVICE_NAMESPACE (sic, as Istio spells it): tie-break namespace of the Service lookup. */
  preferredServiceNamespace?: string;
  /** DNS_RESOLV_CONF (addition): where the upstream nameservers are read from. */
  resolvConf: string;
  /** DNS_UPSTREAM_TIMEOUT (addition): per-try upstream timeout; default resolv.conf's `options timeout` (5s). */
  upstreamTimeoutMs?: number;
}

export const DEFAULT_DNS_PROXY_ADDR = 'localhost:15053';

/** The table behind `ztunnel --help`: every variable, its default and meaning. */
export const variables: VariableHelp[] = [
  [
    'PROXY_MODE',
    'shared',
    "shared (in-pod capture over ZDS, Istio's default), dedicated (one workload), node (every workload on NODE_NAME, by IP)",
  ],
  ['PROXY_WORKLOAD_INFO', '', 'dedicated mode: <namespace>/<name>/<serviceAccount> of the workload served'],
  ...controlPlaneVariables,
  ['NODE_NAME', '', 'node name: workloads whose node equals it are local'],
  [
    'PACKET_MARK',
    '1337 in shared mode; unset otherwise (dedicated with 15001 capture: 1337)',
    "SO_MARK on ztunnel's own sockets, so the redirect rules let them pass",
  ],
  ['INPOD_UDS', DEFAULT_INPOD_UDS, "shared mode: the CNI node agent's ZDS socket (ztunnel connects)"],
  ['INPOD_PORT_REUSE', 'true', 'shared mode: SO_REUSEPORT on the in-pod listeners'],
  [
    'ENABLE_ORIG_SRC',
    'best effort',
    'shared mode: connect to the app from the client IP (true = required, false = off)',
  ],
  ['XDS_ON_DEMAND', 'false', 'fetch unknown addresses on demand'],
  ['UNSTABLE_ENABLE_SOCKS5', 'false', 'SOCKS5 outbound listener (SOCKS5_ADDR)'],
  ['HTTP2_STREAM_WINDOW_SIZE', '4194304', 'HBONE HTTP/2 stream window (bytes)'],
  ['HTTP2_CONNECTION_WINDOW_SIZE', '16777216', 'HBONE HTTP/2 connection window (bytes)'],
  ['HTTP2_FRAME_SIZE', '1048576', 'HBONE HTTP/2 max frame size (bytes, 16384..16777215)'],
  [
    'KEEPALIVE_ENABLED / KEEPALIVE_TIME / KEEPALIVE_INTERVAL / KEEPALIVE_RETRIES',
    'true / 180s / 180s / 9',
    'TCP keepalive',
  ],
  ['USER_TIMEOUT_ENABLED', 'false', 'TCP_USER_TIMEOUT (accepted; Node cannot set it)'],
  ['ENABLE_RESPONSE_BAGGAGE', 'true', 'baggage header on HBONE 200 responses'],
  ['TLS12_ENABLED', 'false', 'also accept TLS 1.2 on HBONE'],
  ['LOCALHOST_APP_TUNNEL', 'true', 'PROXY-protocol app tunnels connect to localhost'],
  ['ISTIO_META_<K> / ISTIO_METAJSON_<K>', '', 'xDS node metadata (string / JSON)'],
  ['POD_NAME, POD_NAMESPACE, SERVICE_ACCOUNT, TRUST_DOMAIN, INSTANCE_IP', '', "ztunnel's own identity and node id"],
  ...operatorVariables({ logFormat: 'plain', poolReleaseMs: 300_000 }),
  ['AUTHZ_POLICY_INFO_LOGGING', 'false', 'log policy decisions at info'],
  ['SOCKS5_ADDR (addition)', '127.0.0.1:15080', 'SOCKS5 listener address'],
  [
    'OUTBOUND_CAPTURE_ADDR (addition)',
    '[::]:15001 (0.0.0.0:15001 with IPV6_ENABLED=false)',
    'dedicated mode: the outbound capture listener (iptables REDIRECT target; only where capture is available)',
  ],
  [
    'SELF_INBOUND_ADDR (addition)',
    '[::]:15008 (0.0.0.0:15008 with IPV6_ENABLED=false)',
    "shared mode with POD_NAME/POD_NAMESPACE/SERVICE_ACCOUNT: ztunnel's own HBONE inbound (its identity)",
  ],
  ['ISTIO_META_DNS_CAPTURE', 'true', 'DNS proxy on UDP+TCP; any value other than "true" disables it'],
  ['ISTIO_META_DNS_PROXY_ADDR', DEFAULT_DNS_PROXY_ADDR, 'DNS proxy address (localhost = 127.0.0.1 and ::1)'],
  ['PREFERED_SERVICE_NAMESPACE', '', 'DNS: namespace preferred when several Services share a hostname'],
  ['DNS_RESOLV_CONF (addition)', '/etc/resolv.conf', 'upstream nameservers of forwarded queries'],
  ['DNS_UPSTREAM_TIMEOUT (addition)', "resolv.conf's timeout (5s)", 'per-try timeout of a forwarded query'],
];

export function helpText(): string {
  return formatHelp(
    ["ztunnel — the ambient-mesh node proxy (ambient-ts), configured like Istio's ztunnel."],
    'ztunnel',
    variables,
  );
}

function parseWorkloadInfo(text: string): Config['proxyWorkloadInfo'] {
  const parts = text.split('/');
  if (parts.length !== 3 || parts.some((part) => part === '')) {
    throw new ConfigError('PROXY_WORKLOAD_INFO', `"${text}" must be <namespace>/<name>/<serviceAccount>`);
  }
  return { namespace: parts[0]!, name: parts[1]!, serviceAccount: parts[2]! };
}

function proxyMetadata(env: Env): Record<string, unknown> {
  const metadata: Record<string, unknown> = withPrefix(env, 'ISTIO_META_');
  for (const [key, text] of Object.entries(withPrefix(env, 'ISTIO_METAJSON_'))) {
    try {
      metadata[key] = JSON.parse(text);
    } catch {
      throw new ConfigError(`ISTIO_METAJSON_${key}`, 'is not valid JSON');
    }
  }
  return metadata;
}

/** Build the Config from an environment; throws ConfigError naming the first bad variable. */
export function parseConfig(env: Env): Config {
  const proxyMode = read(env, 'PROXY_MODE', 'shared' as ProxyMode, (variable, text) => {
    if (text === 'shared' || text === 'dedicated' || text === 'node') return text;
    throw new ConfigError(variable, `"${text}" is not one of shared, dedicated, node`);
  });
  const workloadInfo = env['PROXY_WORKLOAD_INFO'] ? parseWorkloadInfo(env['PROXY_WORKLOAD_INFO']) : undefined;
  if (proxyMode === 'dedicated' && !workloadInfo) {
    throw new ConfigError(
      'PROXY_WORKLOAD_INFO',
      'is required with PROXY_MODE=dedicated (<namespace>/<name>/<serviceAccount>)',
    );
  }
  const controlPlane = readControlPlane(env, { served: 'workloads', certificates: 'workload certificates' });
  const operator = readOperator(env, { logFormat: 'plain', poolReleaseMs: 300_000 });
  const packetMark = read(env, 'PACKET_MARK', proxyMode === 'shared' ? ZTUNNEL_PACKET_MARK : undefined, (v, t) =>
    parseInteger(v, t, 1, 2 ** 32 - 1),
  );
  const wildcard = operator.ipv6Enabled ? '::' : '0.0.0.0';
  const frameSize = read(env, 'HTTP2_FRAME_SIZE', 1 << 20, (v, t) => parseInteger(v, t, 16_384, 16_777_215));
  const config: Config = {
    proxyMode,
    ...(workloadInfo ? { proxyWorkloadInfo: workloadInfo } : {}),
    ...controlPlane,
    ...operator,
    ...(env['NODE_NAME'] ? { nodeName: env['NODE_NAME'] } : {}),
    ...(packetMark === undefined ? {} : { packetMark }),
    inpodUds: env['INPOD_UDS'] || DEFAULT_INPOD_UDS,
    inpodPortReuse: read(env, 'INPOD_PORT_REUSE', true, parseBool),
    originalSource: read(env, 'ENABLE_ORIG_SRC', 'best-effort' as OriginalSourceMode, (v, t) =>
      parseBool(v, t) ? 'required' : 'off',
    ),
    xdsOnDemand: read(env, 'XDS_ON_DEMAND', false, parseBool),
    enableSocks5: read(env, 'UNSTABLE_ENABLE_SOCKS5', false, parseBool),
    http2: {
      streamWindowSize: read(env, 'HTTP2_STREAM_WINDOW_SIZE', 4 << 20, (v, t) =>
        parseInteger(v, t, 65_535, 2 ** 31 - 1),
      ),
      connectionWindowSize: read(env, 'HTTP2_CONNECTION_WINDOW_SIZE', 16 << 20, (v, t) =>
        parseInteger(v, t, 65_535, 2 ** 31 - 1),
      ),
      frameSize,
    },
    keepalive: {
      enabled: read(env, 'KEEPALIVE_ENABLED', true, parseBool),
      timeMs: read(env, 'KEEPALIVE_TIME', 180_000, parseDuration),
      intervalMs: read(env, 'KEEPALIVE_INTERVAL', 180_000, parseDuration),
      retries: read(env, 'KEEPALIVE_RETRIES', 9, (v, t) => parseInteger(v, t, 1, 127)),
      userTimeoutEnabled: read(env, 'USER_TIMEOUT_ENABLED', false, parseBool),
    },
    enableResponseBaggage: read(env, 'ENABLE_RESPONSE_BAGGAGE', true, parseBool),
    tls12Enabled: read(env, 'TLS12_ENABLED', false, parseBool),
    localhostAppTunnel: read(env, 'LOCALHOST_APP_TUNNEL', true, parseBool),
    proxyMetadata: proxyMetadata(env),
    self: {
      ...(env['POD_NAME'] ? { podName: env['POD_NAME'] } : {}),
      ...(env['POD_NAMESPACE'] ? { podNamespace: env['POD_NAMESPACE'] } : {}),
      ...(env['SERVICE_ACCOUNT'] ? { serviceAccount: env['SERVICE_ACCOUNT'] } : {}),
      trustDomain: env['TRUST_DOMAIN'] || 'cluster.local',
      ...(env['INSTANCE_IP'] ? { instanceIp: env['INSTANCE_IP'] } : {}),
    },
    logging: { ...operator.logging, authzPolicyInfo: read(env, 'AUTHZ_POLICY_INFO_LOGGING', false, parseBool) },
    socks5Address: read(env, 'SOCKS5_ADDR', { host: '127.0.0.1', port: 15080 }, (v, t) =>
      parseHostPort(v, t, '127.0.0.1'),
    ),
    outboundCaptureAddress: read(env, 'OUTBOUND_CAPTURE_ADDR', { host: wildcard, port: 15001 }, (v, t) =>
      parseHostPort(v, t, wildcard),
    ),
    selfInboundAddress: read(env, 'SELF_INBOUND_ADDR', { host: wildcard, port: 15008 }, (v, t) =>
      parseHostPort(v, t, wildcard),
    ),
    dns: readDns(env, operator.ipv6Enabled),
  };
  return config;
}

function readDns(env: Env, ipv6Enabled: boolean): DnsConfig {
  const capture = env['ISTIO_META_DNS_CAPTURE'];
  const text = env['ISTIO_META_DNS_PROXY_ADDR'] || DEFAULT_DNS_PROXY_ADDR;
  const { host, port } = parseHostPort('ISTIO_META_DNS_PROXY_ADDR', text, 'localhost');
  const hosts = host === 'localhost' ? (ipv6Enabled ? ['127.0.0.1', '::1'] : ['127.0.0.1']) : [host];
  const upstreamTimeoutMs = read(env, 'DNS_UPSTREAM_TIMEOUT', undefined as number | undefined, parseDuration);
  return {
    capture: capture === undefined || capture.toLowerCase() === 'true',
    address: { hosts, port },
    addressSet: Boolean(env['ISTIO_META_DNS_PROXY_ADDR']),
    ...(env['PREFERED_SERVICE_NAMESPACE'] ? { preferredServiceNamespace: env['PREFERED_SERVICE_NAMESPACE'] } : {}),
    resolvConf: env['DNS_RESOLV_CONF'] || '/etc/resolv.conf',
    ...(upstreamTimeoutMs === undefined ? {} : { upstreamTimeoutMs }),
  };
}

/** The one place the process environment is read. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** The config as printed at start-up and in /config_dump (tokens and inline secrets redacted). */
export { redactConfig as redactedConfig } from '@ambient-ts/runtime';
