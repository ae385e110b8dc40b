// The mesh under test: one CA (as istiod's) in the bench process, and two ztunnels in node mode, each
// its own process started the way an operator would (`node apps/ztunnel/src/main.ts` + environment),
// with static workloads (LOCAL_XDS) and certificates from that CA (node tokens, impersonation). The CA and
// the ztunnel launcher are shared with the captured path (netns-mesh.ts: the same CA, shared-mode ztunnels).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { formatHostPort } from '@ambient-ts/addresses';
import { CaServer, CertificateAuthority, NodeIdentityMap, NodeTokenIssuer } from '@ambient-ts/ca';
import { freePort, stopChild } from './procs.ts';

export const CLIENT_IP = '127.0.20.2';
export const SERVER_IP = '127.0.20.1';
const repo = join(import.meta.dirname, '../../..');
const identity = (sa: string): string => `spiffe://cluster.local/ns/bench/sa/${sa}`;

const workloads = `
workloads:
- uid: bench//v1/Pod/bench/client
  name: client
  namespace: bench
  serviceAccount: client
  trustDomain: cluster.local
  workloadIps: ["${CLIENT_IP}"]
  protocol: HBONE
  node: node-a
  workloadName: client
  canonicalName: client
- uid: bench//v1/Pod/bench/server
  name: server
  namespace: bench
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["${SERVER_IP}"]
  protocol: HBONE
  node: node-b
  workloadName: server
  canonicalName: server
`;

export interface RunningZtunnel {
  name: string;
  pid: number;
  socks: { host: string; port: number };
  /** host:port of its admin endpoints (/config_dump). */
  admin: string;
  stop(): Promise<void>;
}

export interface Mesh {
  nodeA: RunningZtunnel;
  nodeB: RunningZtunnel;
  close(): Promise<void>;
}

/** The bench's CA (istiod's part): node tokens, and which identities each node's ztunnel may request. */
export interface BenchCa {
  server: CaServer;
  /** A token for the ztunnel of `node`. */
  token(node: string): Promise<string>;
  close(): Promise<void>;
}

/** A CA on 127.0.0.1 whose node authorization lets each node of `nodes` request its workloads' identities. */
export async function startCa(nodes: Record<string, string[]>): Promise<BenchCa> {
  const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
  const tokens = await NodeTokenIssuer.create();
  const nodeView = new NodeIdentityMap();
  for (const [node, serviceAccounts] of Object.entries(nodes))
    for (const sa of serviceAccounts) nodeView.add(node, identity(sa));
  const server = new CaServer({ authority, tokenVerifier: tokens.verifier(), nodeView });
  await server.listen(0);
  const ztunnelId = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
  return { server, token: (node) => tokens.issue({ node, identity: ztunnelId }), close: () => server.close() };
}

export interface ZtunnelOptions {
  logDir: string;
  nodeArgs: string[];
  /** Merged over the node-mode environment (PROXY_MODE, LOCAL_XDS, INPOD_UDS, …). */
  env?: Record<string, string>;
}

async function waitReady(url: string, child: ChildProcess, name: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ztunnel ${name} exited with ${child.exitCode}; see ${log}`);
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ztunnel ${name} was not ready within 60 s (${url}); see ${log}`);
}

/** A ztunnel process for `node` with its admin, stats, readiness and SOCKS5 ports on `host`; resolves when ready. */
export async function startZtunnel(
  node: string,
  host: string,
  ca: CaServer,
  token: string,
  options: ZtunnelOptions,
): Promise<RunningZtunnel> {
  const [admin, stats, readiness, socks] = [
    await freePort(host),
    await freePort(host),
    await freePort(host),
    await freePort(host),
  ];
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    PROXY_MODE: 'node',
    NODE_NAME: node,
    XDS_ADDRESS: '',
    LOCAL_XDS: workloads,
    FAKE_CA: 'false',
    CA_ADDRESS: ca.address,
    CA_ROOT_CA: ca.rootCertsPem,
    AUTH_TOKEN: token,
    UNSTABLE_ENABLE_SOCKS5: 'true',
    ADMIN_ADDR: formatHostPort(host, admin),
    STATS_ADDR: formatHostPort(host, stats),
    READINESS_ADDR: formatHostPort(host, readiness),
    SOCKS5_ADDR: formatHostPort(host, socks),
    CONNECTION_TERMINATION_DEADLINE: '1s',
    IPV6_ENABLED: 'false',
    ...options.env,
  };
  const log = join(options.logDir, `ztunnel-${node}.log`);
  const out = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [...options.nodeArgs, '--conditions=ambient-ts-source', join(repo, 'apps/ztunnel/src/main.ts')],
    { env, stdio: ['ignore', out, out] },
  );
  try {
    await waitReady(`http://${formatHostPort(host, readiness)}/healthz/ready`, child, node, log);
  } catch (error) {
    await stopChild(child, 5000);
    throw error;
  }
  return {
    name: node,
    pid: child.pid!,
    socks: { host, port: socks },
    admin: env['ADMIN_ADDR']!,
    stop: () => stopChild(child, 5000),
  };
}

/** The workloads' HBONE and plaintext ports must be ours: another bench run would answer in our place. */
async function checkWorkloadPorts(): Promise<void> {
  for (const host of [CLIENT_IP, SERVER_IP]) {
    for (const port of [15008, 15006]) {
      const free = await new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port, host, () => server.close(() => resolve(true)));
      });
      if (!free)
        throw new Error(
          `${formatHostPort(host, port)} is in use: is another ztunnel bench running? Stop it and run again.`,
        );
    }
  }
}

/** A CA on 127.0.0.1 and ztunnels for node-a (client workload) and node-b (server workload). */
export async function startMesh(options: { logDir: string; nodeArgs: string[] }): Promise<Mesh> {
  await checkWorkloadPorts();
  const ca = await startCa({ 'node-a': ['client'], 'node-b': ['server'] });
  const started: RunningZtunnel[] = [];
  try {
    for (const [node, host] of [
      ['node-a', '127.0.21.1'],
      ['node-b', '127.0.21.2'],
    ] as const) {
      started.push(await startZtunnel(node, host, ca.server, await ca.token(node), options));
    }
  } catch (error) {
    await Promise.all(started.map((ztunnel) => ztunnel.stop()));
    await ca.close();
    throw error;
  }
  return {
    nodeA: started[0]!,
    nodeB: started[1]!,
    close: async () => {
      await Promise.all(started.map((ztunnel) => ztunnel.stop()));
      await ca.close();
    },
  };
}
