// Benchmark: the ztunnel data path against no proxy and against a stunnel pair, all measured in this
// run, every part its own process. On loopback (no root needed):
//   direct:  client (127.0.20.2) → server apps (127.0.20.1)
//   ztunnel: client → ztunnel A (SOCKS5) → HBONE (mTLS, HTTP/2 CONNECT) → ztunnel B → server apps
//   stunnel: client → stunnel client → mutual TLS 1.3 → stunnel server → server apps
// In network namespaces (root on Linux; netns-mesh.ts: a netns-topology with node0 and node1, a node agent per
// node making the captured pods and their in-pod iptables rules, two PROXY_MODE=shared ztunnels in the host
// netns fed over ZDS; client and server programs inside their pods, no proxy settings):
//   captured:      client in pod A (node0) → in-pod rules → 15001 of ztunnel A → HBONE → 15008 of ztunnel B in
//                  pod B (node1) → server apps in pod B
//   direct-netns:  client in pod C (node0) → server apps in pod D (node1): wired like A and B, not captured
//   stunnel-netns: pod C → stunnel client in C → mutual TLS 1.3 → stunnel server in D → server apps in D
// Without root the netns paths are skipped with one line saying why; every namespace is deleted at the end,
// also on Ctrl-C (SIGINT/SIGTERM).
// Rows (one table for the loopback trio, one for the netns trio): single-connection throughput both ways;
// latency at a fixed request rate (open loop, 1 KiB request / 1 KiB response on keep-alive connections)
// reported as added over direct; proxy CPU seconds per 1000 requests and RSS at that load; new connections per
// second (1-byte echo each). Every measurement runs --runs times, interleaved across paths; cells are
// "median (min–max)".
//   npm run bench -- ztunnel [--runs 3] [--seconds 3] [--latency-seconds 20] [--warmup-seconds 5]
//     [--rps 1000] [--connections 4] [--rate-seconds 3] [--concurrency 16]
//     [--only throughput,latency,rate]
//     [--paths direct,ztunnel,stunnel,direct-netns,captured,stunnel-netns]   (default: all of them)
//     [--cpu-prof <dir>]   (V8 CPU profiles of the ztunnels; summarise with profile.ts)
//     [--ztunnel-node-args=--trace-gc] [--keep-logs]   (experiments: extra node flags for the ztunnels)
//     [--quiet-wait 30]   (before each run, wait up to this long for other processes to use < 0.3 cores)
//   sudo npm run bench -- ztunnel --paths direct-netns,captured,stunnel-netns   (only the netns table)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Ports } from './apps.ts';
import type { Transfer } from './client.ts';
import type { LatencySummary } from './latency.ts';
import { CLIENT_IP, SERVER_IP, startCa, startMesh } from './mesh.ts';
import { NETNS_NODES, netnsSupport, startNetnsMesh } from './netns-mesh.ts';
import { cpuSeconds, memoryMiB, otherLoad, spawnRole, waitQuiet, type Role } from './procs.ts';
import { LOOPBACK, NETNS, printReport, type Results } from './report.ts';
import type { PathSpec } from './roles.ts';
import { startStunnel, type StunnelPair } from './stunnel.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'latency-seconds': { type: 'string', default: '20' },
    'warmup-seconds': { type: 'string', default: '5' },
    rps: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '4' },
    'rate-seconds': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    'quiet-wait': { type: 'string', default: '30' },
    only: { type: 'string', default: 'throughput,latency,rate' },
    paths: { type: 'string', default: [...Object.values(LOOPBACK.paths), ...Object.values(NETNS.paths)].join(',') },
    'cpu-prof': { type: 'string' },
    'ztunnel-node-args': { type: 'string', default: '' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const settings = {
  runs: Number(values.runs),
  seconds: Number(values.seconds),
  latencySeconds: Number(values['latency-seconds']),
  warmupSeconds: Number(values['warmup-seconds']),
  rps: Number(values.rps),
  connections: Number(values.connections),
  rateSeconds: Number(values['rate-seconds']),
  concurrency: Number(values.concurrency),
  quietWaitSeconds: Number(values['quiet-wait']),
};
const only = new Set(values.only.split(','));
const profileDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const loadAtStart = loadavg();
const workDir = mkdtempSync(join(tmpdir(), 'ztunnel-bench-'));
const results: Results = { paths: {}, other: {} };
const push = (path: string, metric: string, value: number): void => {
  const byMetric = (results.paths[path] ??= {});
  (byMetric[metric] ??= []).push(value);
};
const pushOther = (phase: string, cores: number): void => void (results.other[phase] ??= []).push(cores);
const cleanups: (() => Promise<void>)[] = [];
let finished = false;

console.log(
  `ztunnel bench: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
    `load average ${loadAtStart.map((value) => value.toFixed(2)).join(' ')} at start`,
);
console.log(`settings: ${JSON.stringify(settings)}; logs in ${workDir}`);

const selected = values.paths.split(',').filter(Boolean);
const known = [...Object.values(LOOPBACK.paths), ...Object.values(NETNS.paths)];
for (const path of selected) {
  if (!known.includes(path)) {
    console.error(`unknown path ${path}; paths: ${known.join(', ')}`);
    process.exit(2);
  }
}
const wants = (trio: typeof LOOPBACK): boolean => Object.values(trio.paths).some((path) => selected.includes(path));
let netnsWanted = wants(NETNS);
if (netnsWanted) {
  const support = await netnsSupport();
  if (!support.available) {
    console.log(`skipping the network-namespace paths (${Object.values(NETNS.paths).join(', ')}): ${support.reason}`);
    netnsWanted = false;
  }
}

// Cleanup runs once: at the end, on an error, or on SIGINT/SIGTERM (then exit 130), so no namespace survives.
let cleaning: Promise<void> | undefined;
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping every process and deleting the namespaces`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  const paths: Record<string, PathSpec> = {};
  /** The proxies of each path: [client side, server side]. */
  const proxies: Record<string, number[]> = {};
  /** The client process that runs each path (in the host netns, or inside the path's client pod). */
  const clientOf: Record<string, Role> = {};
  const others: number[] = [];
  const nodeArgs = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...values['ztunnel-node-args'].split(' ').filter(Boolean),
  ];

  if (wants(LOOPBACK)) {
    const mesh = await startMesh({ logDir: workDir, nodeArgs });
    cleanups.push(() => mesh.close());
    const server: Role = await spawnRole('server', { host: SERVER_IP });
    cleanups.push(() => server.stop());
    others.push(server.pid);
    const ports = server.info as unknown as Ports;
    const stunnel: StunnelPair | undefined = await startStunnel(workDir, { host: SERVER_IP, ports });
    if (stunnel) cleanups.push(() => stunnel.stop());
    paths['direct'] = { kind: 'tcp', host: SERVER_IP, ports, localAddress: CLIENT_IP };
    paths['ztunnel'] = { kind: 'socks', proxy: mesh.nodeA.socks, host: SERVER_IP, ports, localAddress: CLIENT_IP };
    proxies['direct'] = [];
    proxies['ztunnel'] = [mesh.nodeA.pid, mesh.nodeB.pid];
    if (stunnel) {
      paths['stunnel'] = { kind: 'tcp', host: '127.0.0.1', ports: stunnel.ports };
      proxies['stunnel'] = [stunnel.pids[1]!, stunnel.pids[0]!];
    }
    const loopback = Object.fromEntries(Object.entries(paths).filter(([name]) => selected.includes(name)));
    const client: Role = await spawnRole('client', { paths: loopback });
    cleanups.push(() => client.stop());
    for (const name of Object.keys(loopback)) clientOf[name] = client;
  }

  if (netnsWanted) {
    const ca = await startCa(NETNS_NODES);
    cleanups.push(() => ca.close());
    console.log('network-namespace paths: building the topology, node agents and shared-mode ztunnels');
    const netns = await startNetnsMesh(ca, { logDir: workDir, nodeArgs });
    cleanups.push(() => netns.close());
    others.push(...netns.agentPids);
    const inPod = async (role: string, namespace: string, config: Record<string, unknown>): Promise<Role> => {
      const started = await spawnRole(role, config, namespace);
      cleanups.push(() => started.stop());
      others.push(started.pid);
      return started;
    };
    const capturedServer = await inPod('server', netns.server.namespace, { host: netns.server.ip });
    const plainServer = await inPod('server', netns.plainServer.namespace, { host: netns.plainServer.ip });
    const capturedPorts = capturedServer.info as unknown as Ports;
    const plainPorts = plainServer.info as unknown as Ports;
    const stunnel = !selected.includes('stunnel-netns')
      ? undefined
      : await startStunnel(
          workDir,
          { host: netns.plainServer.ip, ports: plainPorts },
          {
            serverNamespace: netns.plainServer.namespace,
            serverHost: netns.plainServer.ip,
            clientNamespace: netns.plainClient.namespace,
            prefix: 'netns-',
          },
        );
    if (stunnel) cleanups.push(() => stunnel.stop());
    // The captured client dials the server pod's own address: no proxy settings, the in-pod rules redirect it.
    const captured: Record<string, PathSpec> = {
      captured: { kind: 'tcp', host: netns.server.ip, ports: capturedPorts },
    };
    const plain: Record<string, PathSpec> = {
      'direct-netns': { kind: 'tcp', host: netns.plainServer.ip, ports: plainPorts },
      ...(stunnel ? { 'stunnel-netns': { kind: 'tcp', host: '127.0.0.1', ports: stunnel.ports } as PathSpec } : {}),
    };
    proxies['captured'] = netns.ztunnels.map((ztunnel) => ztunnel.pid);
    proxies['direct-netns'] = [];
    if (stunnel) proxies['stunnel-netns'] = [stunnel.pids[1]!, stunnel.pids[0]!];
    for (const [namespace, group] of [
      [netns.client.namespace, captured],
      [netns.plainClient.namespace, plain],
    ] as const) {
      const mine = Object.fromEntries(Object.entries(group).filter(([name]) => selected.includes(name)));
      if (Object.keys(mine).length === 0) continue;
      const client = await inPod('client', namespace, { paths: mine });
      for (const name of Object.keys(mine)) clientOf[name] = client;
      Object.assign(paths, mine);
    }
  }

  // A path left out by --paths is not measured, but its proxies still run (and count as ours, not as other load).
  for (const [path, pids] of Object.entries(proxies)) {
    if (selected.includes(path)) continue;
    others.push(...pids);
    delete proxies[path];
  }
  for (const [path, pids] of Object.entries(proxies)) {
    pids.forEach((pid, index) => push(path, index === 0 ? 'clientSideIdle' : 'serverSideIdle', memoryMiB(pid).rss));
  }
  const clients = [...new Set(Object.values(clientOf))];
  const ours = (): number[] => [
    process.pid,
    ...others,
    ...clients.map((client) => client.pid),
    ...Object.values(proxies).flat(),
  ];
  const names = known.filter((name) => selected.includes(name) && clientOf[name]);
  const client = {
    request: <T>(message: { path: string } & Record<string, unknown>): Promise<T> =>
      clientOf[message.path]!.request<T>(message),
  };
  const quiet = async (phase: string): Promise<void> => {
    const busy = await waitQuiet(ours, 0.3, settings.quietWaitSeconds * 1000);
    if (busy >= 0.3) console.log(`${phase}: other processes kept ${busy.toFixed(2)} cores busy; measuring anyway`);
  };

  // Smoke test and first use (certificates, pooled HBONE connection, JIT) of every path.
  for (const path of names) {
    const smoke = await client.request<{ count: number; firstError?: string }>({
      cmd: 'rate',
      path,
      concurrency: 1,
      ms: 300,
    });
    if (smoke.count === 0) throw new Error(`path ${path} carries no traffic: ${smoke.firstError ?? 'no answer'}`);
  }

  if (only.has('throughput')) {
    const ms = settings.seconds * 1000;
    for (let run = 0; run < settings.runs; run++) {
      await quiet('throughput');
      for (const path of names) {
        const window = otherLoad(ours);
        const cpu0 = proxies[path]!.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
        const up = await client.request<Transfer>({ cmd: 'upload', path, ms });
        const down = await client.request<Transfer>({ cmd: 'download', path, ms });
        const cpu = proxies[path]!.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpu0;
        pushOther('throughput', window());
        push(path, 'up', (up.bytes * 8) / (up.ms * 1e6));
        push(path, 'down', (down.bytes * 8) / (down.ms * 1e6));
        if (proxies[path]!.length) push(path, 'cpuPerGB', cpu / ((up.bytes + down.bytes) / 1e9));
      }
      console.log(`throughput run ${run + 1}/${settings.runs} done`);
    }
  }

  if (only.has('latency')) {
    const load = { connections: settings.connections, rate: settings.rps };
    for (let run = 0; run < settings.runs; run++) {
      await quiet('latency');
      for (const path of names) {
        await client.request({ cmd: 'latency', path, ...load, ms: settings.warmupSeconds * 1000 });
        const window = otherLoad(ours);
        const cpu0 = proxies[path]!.map(cpuSeconds);
        const summary = await client.request<LatencySummary>({
          cmd: 'latency',
          path,
          ...load,
          ms: settings.latencySeconds * 1000,
        });
        const cpu = proxies[path]!.map((pid, index) => cpuSeconds(pid) - cpu0[index]!);
        const memory = proxies[path]!.map(memoryMiB);
        await client.request({ cmd: 'close', path });
        pushOther('latency', window());
        for (const key of ['p50', 'p90', 'p99', 'p999', 'serviceP50', 'serviceP99', 'rate'] as const)
          push(path, key, summary[key]);
        push(path, 'queuedPercent', summary.queued * 100);
        for (const [index, side] of ['clientSide', 'serverSide'].entries()) {
          if (cpu[index] === undefined) continue;
          push(path, `${side}Cpu`, cpu[index] / (summary.count / 1000));
          push(path, `${side}Rss`, memory[index]!.rss);
        }
      }
      console.log(`latency run ${run + 1}/${settings.runs} done`);
    }
  }

  if (only.has('rate')) {
    const concurrency = settings.concurrency;
    for (let run = 0; run < settings.runs; run++) {
      await quiet('connection rate');
      for (const path of names) {
        await client.request({ cmd: 'rate', path, concurrency, ms: 500 });
        const window = otherLoad(ours);
        const rate = await client.request<{ perSecond: number; errors: number; firstError?: string }>({
          cmd: 'rate',
          path,
          concurrency,
          ms: settings.rateSeconds * 1000,
        });
        pushOther('rate', window());
        push(path, 'connections', rate.perSecond);
        if (rate.errors) console.log(`${path}: ${rate.errors} failed connections (${rate.firstError})`);
      }
      console.log(`connection-rate run ${run + 1}/${settings.runs} done`);
    }
  }

  for (const [path, pids] of Object.entries(proxies)) {
    pids.forEach((pid, index) => push(path, index === 0 ? 'clientSidePeak' : 'serverSidePeak', memoryMiB(pid).peak));
  }
  printReport(results, settings, { start: loadAtStart, end: loadavg() }, [LOOPBACK, NETNS]);
  finished = true;
} finally {
  await cleanUp();
  if (profileDir) console.log(`CPU profiles of both ztunnels (and their whole run) in ${profileDir}`);
  if (finished && !values['keep-logs']) rmSync(workDir, { recursive: true, force: true });
  else console.log(`kept ${workDir} (ztunnel logs, stunnel config)`);
}
