// In-process ztunnels for the "direct" test tier: node mode on loopback addresses, static config or xDS,
// logs captured as JSON records, and raw HBONE peers (applications: apps.ts; polling and metrics: observe.ts).
import { PassThrough, type Duplex } from 'node:stream';
import { LocalCa, type CaClient } from '@ambient-ts/certs';
import { addressResource } from '@ambient-ts/discovery';
import { HbonePool, HboneError, type SocketFactory } from '@ambient-ts/hbone';
import { parseConfig, type Config } from '../../src/config.ts';
import { Ztunnel } from '../../src/ztunnel.ts';

export interface StartedZtunnel {
  ztunnel: Ztunnel;
  config: Config;
  logs: () => Record<string, unknown>[];
  socks: { host: string; port: number };
  metrics: () => Promise<string>;
  admin: (path: string, init?: RequestInit) => Promise<Response>;
  ready: () => Promise<Response>;
}

/** One CA per test file, shared by every ztunnel in it (as one mesh shares istiod's CA). */
let sharedCa: Promise<LocalCa> | undefined;
export function testCa(): Promise<LocalCa> {
  sharedCa ??= LocalCa.create({ trustDomain: 'cluster.local' });
  return sharedCa;
}

/**
 * A ztunnel in node mode with static config (`env` supplies LOCAL_XDS or XDS_ADDRESS…). Certificates come
 * from `caClient`, the file's shared test CA by default, or — with `'from-config'` — from the CA the
 * environment names (CA_ADDRESS), through the ztunnel's own Istio CA client.
 */
export async function startZtunnel(
  env: Record<string, string>,
  caClient: CaClient | 'shared' | 'from-config' = 'shared',
): Promise<StartedZtunnel> {
  const config = parseConfig({
    PROXY_MODE: 'node',
    FAKE_CA: 'true',
    XDS_ADDRESS: '',
    UNSTABLE_ENABLE_SOCKS5: 'true',
    LOG_FORMAT: 'json',
    RUST_LOG: 'info,access:debug',
    ADMIN_ADDR: '127.0.0.1:0',
    STATS_ADDR: '127.0.0.1:0',
    READINESS_ADDR: '127.0.0.1:0',
    SOCKS5_ADDR: '127.0.0.1:0',
    ISTIO_META_DNS_PROXY_ADDR: '127.0.0.1:0',
    ...env,
  });
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const ca = caClient === 'from-config' ? undefined : caClient === 'shared' ? await testCa() : caClient;
  const ztunnel = await Ztunnel.start(config, { logDestination: out, ...(ca ? { caClient: ca } : {}) });
  const base = (port: number) => `http://127.0.0.1:${port}`;
  return {
    ztunnel,
    config,
    logs: () => {
      ztunnel.logging.flush();
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    socks: { host: '127.0.0.1', port: ztunnel.ports.socks5! },
    metrics: async () => (await fetch(`${base(ztunnel.ports.stats)}/metrics`)).text(),
    admin: (path, init) => fetch(`${base(ztunnel.ports.admin)}${path}`, init),
    ready: () => fetch(`${base(ztunnel.ports.readiness)}/healthz/ready`),
  };
}

/** A workload as the xDS Address resource istiod pushes (HBONE, addresses base64 as in proto3 JSON). */
export function xdsWorkload(name: string, ipv4: string, node: string, authorizationPolicies: string[] = []) {
  return addressResource({
    workload: {
      uid: `Kubernetes//Pod/default/${name}`,
      name,
      namespace: 'default',
      serviceAccount: name,
      addresses: [Buffer.from(ipv4.split('.').map(Number)).toString('base64')],
      tunnelProtocol: 'HBONE',
      node,
      ...(authorizationPolicies.length > 0 ? { authorizationPolicies } : {}),
    },
  });
}

/** A raw HBONE client (a peer ztunnel or waypoint): CONNECT and report the status, or the open tunnel. */
export async function hboneConnect(options: {
  identity: string;
  to: { host: string; port: number };
  authority: string;
  expect: string[];
  headers?: Record<string, string>;
  ca?: CaClient;
  /** How the TCP connection is made (the netns tier dials from inside a pod); default node:net. */
  socketFactory?: SocketFactory;
}): Promise<{ status: number; stream?: Duplex; pool: HbonePool }> {
  const ca = options.ca ?? (await testCa());
  const certificate = await ca.fetchCertificate(options.identity);
  const pool = new HbonePool(options.socketFactory ? { socketFactory: options.socketFactory } : {});
  try {
    const tunnel = await pool.connect({
      address: options.to,
      authority: options.authority,
      headers: options.headers ?? {},
      credentials: certificate,
      sourceIdentity: options.identity,
      expectedIdentities: options.expect,
    });
    return { status: tunnel.status, stream: tunnel.stream, pool };
  } catch (error) {
    if (HboneError.isHboneError(error) && error.code === 'TUNNEL_REFUSED') return { status: error.status ?? 0, pool };
    await pool.close();
    throw error;
  }
}
