// Benchmark: HTTP/1.1 keep-alive requests through the waypoint (a separate process, as deployed) against
// the same client calling the echo pod's HBONE port directly (the baseline: what a request costs without
// the L7 hop). Rows: sequential latency (p50/p99) on one connection and throughput with concurrent
// connections, for a Service without L7 config and one with an HTTPRoute (3 rules, header match) plus
// an ALLOW policy; waypoint CPU per 1000 requests and RSS come from /proc.
//   npm run bench -- waypoint [sequential=2000] [concurrent=16] [perConnection=250]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type ClientRequestArgs } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { CaServer, CertificateAuthority, NodeTokenIssuer } from '@ambient-ts/ca';
import { LocalCa } from '@ambient-ts/certs';
import { createHboneServer, HbonePool, type TlsCredentials } from '@ambient-ts/hbone';

const [SEQUENTIAL = 2000, CONCURRENT = 16, PER_CONNECTION = 250] = process.argv.slice(2).map(Number);
const repo = join(import.meta.dirname, '../../..');
const id = (sa: string) => `spiffe://cluster.local/ns/default/sa/${sa}`;
const WAYPOINT_IP = '127.0.78.1';
const POD_IP = '127.0.78.11';

const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
const local = new LocalCa({ authority });
const credentials = async (sa: string): Promise<TlsCredentials> => {
  const cert = await local.fetchCertificate(id(sa));
  return { certChainPem: cert.certChainPem, privateKeyPem: cert.privateKeyPem, rootCertsPem: cert.rootCertsPem };
};
const tokens = await NodeTokenIssuer.create();
const ca = new CaServer({ authority, tokenVerifier: tokens.verifier(), tls: false });
const caPort = await ca.listen(0, '127.0.0.1');

// The echo pod behind its ztunnel.
const app = createServer((_req, res) => res.end('ok'));
const podCredentials = await credentials('echo');
const pod = createHboneServer({
  credentials: () => podCredentials,
  onConnect: (c) => void app.emit('connection', c.accept().stream),
});
await pod.listen({ host: POD_IP, port: 15008 });

const LOCAL_XDS = `
services:
- {name: plain, namespace: default, hostname: plain.default.svc.cluster.local, vips: [/10.78.0.1], ports: {80: 8080},
   waypoint: {destination: default/waypoint.default.svc.cluster.local, hboneMtlsPort: 15008}}
- {name: rich, namespace: default, hostname: rich.default.svc.cluster.local, vips: [/10.78.0.2], ports: {80: 8080},
   waypoint: {destination: default/waypoint.default.svc.cluster.local, hboneMtlsPort: 15008}}
workloads:
- {uid: echo, name: echo, namespace: default, trustDomain: cluster.local, serviceAccount: echo, workloadIps: [${POD_IP}],
   protocol: HBONE, services: {default/plain.default.svc.cluster.local: {80: 8080}, default/rich.default.svc.cluster.local: {80: 8080}}}
---
kind: HTTPRoute
metadata: {name: rich, namespace: default}
spec:
  parentRefs: [{group: '', kind: Service, name: rich}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /admin}}]
    backendRefs: [{name: plain, port: 80}]
  - matches: [{headers: [{name: x-canary, value: 'yes'}]}]
    backendRefs: [{name: plain, port: 80}]
  - backendRefs: [{name: rich, port: 80}]
---
kind: AuthorizationPolicy
metadata: {name: rich, namespace: default}
spec:
  targetRefs: [{group: '', kind: Service, name: rich}]
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/client]}}]
    to: [{operation: {methods: [GET], paths: [/bench/*]}}]
`;
// WAYPOINT_PROFILE=<dir> writes a V8 CPU profile of the waypoint process there.
const profile = process.env['WAYPOINT_PROFILE']
  ? [`--cpu-prof`, `--cpu-prof-dir=${process.env['WAYPOINT_PROFILE']}`]
  : [];
const waypoint = spawn(
  process.execPath,
  [...profile, '--conditions=ambient-ts-source', join(repo, 'apps/waypoint/src/main.ts')],
  {
    env: {
      ...process.env,
      INSTANCE_IP: WAYPOINT_IP,
      POD_NAMESPACE: 'default',
      GATEWAY_NAME: 'waypoint',
      XDS_ADDRESS: '',
      LOCAL_XDS,
      CA_ADDRESS: `http://127.0.0.1:${caPort}`,
      AUTH_TOKEN: await tokens.issue({ node: 'bench', identity: id('waypoint'), mayImpersonate: false }),
      ADMIN_ADDR: '127.0.0.1:0',
      STATS_ADDR: '127.0.0.1:0',
      READINESS_ADDR: '127.0.78.1:15021',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const waypointPid = waypoint.pid!;
for (let i = 0; ; i++) {
  const ready = await fetch(`http://${WAYPOINT_IP}:15021/healthz/ready`).then(
    (r) => r.status,
    () => 0,
  );
  if (ready === 200) break;
  if (i > 200) throw new Error('the waypoint did not become ready');
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Keep-alive HTTP/1.1 over HBONE tunnels, as an app behind its ztunnel would send it. */
class TunnelAgent extends Agent {
  readonly #pool = new HbonePool();
  readonly #target: { host: string; authority: string; expect: string };
  readonly #credentials: TlsCredentials;

  constructor(target: { host: string; authority: string; expect: string }, client: TlsCredentials) {
    super({ keepAlive: true, maxSockets: 1 });
    this.#target = target;
    this.#credentials = client;
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    this.#pool
      .connect({
        address: { host: this.#target.host, port: 15008 },
        authority: this.#target.authority,
        credentials: this.#credentials,
        sourceIdentity: id('client'),
        expectedIdentities: [this.#target.expect],
      })
      .then(
        (tunnel) => {
          const stream = tunnel.stream as Duplex & Record<string, unknown>;
          for (const method of ['setKeepAlive', 'setNoDelay', 'ref', 'unref']) stream[method] ??= () => stream;
          callback?.(null, stream);
        },
        (error: Error) => callback?.(error, undefined as never),
      );
    return undefined;
  }

  async close(): Promise<void> {
    this.destroy();
    await this.#pool.close();
  }
}

const client = await credentials('client');
function get(agent: Agent, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request({ agent, path, headers: { host: 'echo' } }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

function cpuMs(): number {
  const fields = readFileSync(`/proc/${waypointPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}
const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${waypointPid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

interface Row {
  name: string;
  p50: number;
  p99: number;
  sequentialRps: number;
  concurrentRps: number;
  cpuPer1000?: number;
}

async function measure(
  name: string,
  target: { host: string; authority: string; expect: string },
  path: string,
  viaWaypoint: boolean,
): Promise<Row> {
  const agent = new TunnelAgent(target, client);
  for (let i = 0; i < 1000; i++) await get(agent, path); // warm-up (JIT)
  const cpuBefore = viaWaypoint ? cpuMs() : 0;
  const latencies: number[] = [];
  const sequentialStart = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) latencies.push(await get(agent, path));
  const sequentialRps = SEQUENTIAL / ((performance.now() - sequentialStart) / 1000);
  await agent.close();
  const agents = Array.from({ length: CONCURRENT }, () => new TunnelAgent(target, client));
  const concurrentStart = performance.now();
  await Promise.all(
    agents.map(async (a) => {
      for (let i = 0; i < PER_CONNECTION; i++) await get(a, path);
    }),
  );
  const concurrentRps = (CONCURRENT * PER_CONNECTION) / ((performance.now() - concurrentStart) / 1000);
  const cpu = viaWaypoint ? cpuMs() - cpuBefore : 0;
  await Promise.all(agents.map((a) => a.close()));
  latencies.sort((a, b) => a - b);
  return {
    name,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    sequentialRps,
    concurrentRps,
    ...(viaWaypoint ? { cpuPer1000: cpu / ((SEQUENTIAL + CONCURRENT * PER_CONNECTION) / 1000) } : {}),
  };
}

const rows = [
  await measure(
    'direct to the pod (baseline)',
    { host: POD_IP, authority: `${POD_IP}:8080`, expect: id('echo') },
    '/bench/x',
    false,
  ),
  await measure(
    'via waypoint, no L7 config',
    { host: WAYPOINT_IP, authority: '10.78.0.1:80', expect: id('waypoint') },
    '/bench/x',
    true,
  ),
  await measure(
    'via waypoint, HTTPRoute + ALLOW',
    { host: WAYPOINT_IP, authority: '10.78.0.2:80', expect: id('waypoint') },
    '/bench/x',
    true,
  ),
];
const base = rows[0]!;
const f = (n: number, digits = 2) => n.toFixed(digits);
console.log(
  `\n${SEQUENTIAL} sequential requests on one keep-alive connection; ${CONCURRENT} connections × ${PER_CONNECTION} requests (Node ${process.versions.node}, one machine)\n`,
);
console.log(
  '| path | p50 ms | p99 ms | sequential req/s | concurrent req/s | vs baseline (concurrent) | waypoint CPU ms / 1000 req |',
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.name} | ${f(row.p50)} | ${f(row.p99)} | ${f(row.sequentialRps, 0)} | ${f(row.concurrentRps, 0)} | ${f(row.concurrentRps / base.concurrentRps)}x | ${row.cpuPer1000 === undefined ? '-' : f(row.cpuPer1000, 0)} |`,
  );
}
console.log(`\nwaypoint RSS after the run: ${f(rssMiB(), 0)} MiB`);

waypoint.kill('SIGTERM');
await new Promise((resolve) => waypoint.once('exit', resolve));
await pod.close();
app.close();
await ca.close();
