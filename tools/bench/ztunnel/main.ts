// Benchmark: the ztunnel data path against no proxy and against a stunnel pair, all measured in this
// run, every part its own process on loopback (no root needed):
//   direct:  client (127.0.20.2) → server apps (127.0.20.1)
//   ztunnel: client → ztunnel A (SOCKS5) → HBONE (mTLS, HTTP/2 CONNECT) → ztunnel B → server apps
//   stunnel: client → stunnel client → mutual TLS 1.3 → stunnel server → server apps
// Rows: single-connection throughput both ways; latency at a fixed request rate (open loop, 1 KiB
// request / 1 KiB response on keep-alive connections) reported as added over direct; proxy CPU seconds
// per 1000 requests and RSS at that load; new connections per second (1-byte echo each). Every
// measurement runs --runs times, interleaved across paths; cells are "median (min–max)".
//   npm run bench -- ztunnel [--runs 3] [--seconds 3] [--latency-seconds 20] [--warmup-seconds 5]
//     [--rps 1000] [--connections 4] [--rate-seconds 3] [--concurrency 16]
//     [--only throughput,latency,rate] [--paths direct,ztunnel,stunnel]
//     [--cpu-prof <dir>]   (V8 CPU profiles of both ztunnels; summarise with profile.ts)
//     [--ztunnel-node-args=--trace-gc] [--keep-logs]   (experiments: extra node flags for the ztunnels)
//     [--quiet-wait 30]   (before each run, wait up to this long for other processes to use < 0.3 cores)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Ports } from './apps.ts';
import type { Transfer } from './client.ts';
import type { LatencySummary } from './latency.ts';
import { CLIENT_IP, SERVER_IP, startMesh } from './mesh.ts';
import { cpuSeconds, memoryMiB, otherLoad, spawnRole, waitQuiet, type Role } from './procs.ts';
import { printReport, type Results } from './report.ts';
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
    paths: { type: 'string', default: 'direct,ztunnel,stunnel' },
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

try {
  const mesh = await startMesh({
    logDir: workDir,
    nodeArgs: [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...values['ztunnel-node-args'].split(' ').filter(Boolean),
    ],
  });
  cleanups.push(() => mesh.close());
  const server: Role = await spawnRole('server', { host: SERVER_IP });
  cleanups.push(() => server.stop());
  const ports = server.info as unknown as Ports;
  const stunnel: StunnelPair | undefined = await startStunnel(workDir, { host: SERVER_IP, ports });
  if (stunnel) cleanups.push(() => stunnel.stop());

  const paths: Record<string, PathSpec> = {
    direct: { kind: 'tcp', host: SERVER_IP, ports, localAddress: CLIENT_IP },
    ztunnel: { kind: 'socks', proxy: mesh.nodeA.socks, host: SERVER_IP, ports, localAddress: CLIENT_IP },
  };
  if (stunnel) paths['stunnel'] = { kind: 'tcp', host: '127.0.0.1', ports: stunnel.ports };
  /** The proxies of each path: [client side, server side]. */
  const proxies: Record<string, number[]> = {
    direct: [],
    ztunnel: [mesh.nodeA.pid, mesh.nodeB.pid],
    stunnel: [...(stunnel ? [stunnel.pids[1]!, stunnel.pids[0]!] : [])],
  };
  for (const [path, pids] of Object.entries(proxies)) {
    pids.forEach((pid, index) => push(path, index === 0 ? 'clientSideIdle' : 'serverSideIdle', memoryMiB(pid).rss));
  }
  const client: Role = await spawnRole('client', { paths });
  cleanups.push(() => client.stop());
  const ours = (): number[] => [process.pid, server.pid, client.pid, ...proxies['ztunnel']!, ...proxies['stunnel']!];
  const names = Object.keys(paths).filter((name) => values.paths.split(',').includes(name));
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
  printReport(results, settings, { start: loadAtStart, end: loadavg() });
  finished = true;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  if (profileDir) console.log(`CPU profiles of both ztunnels (and their whole run) in ${profileDir}`);
  if (finished && !values['keep-logs']) rmSync(workDir, { recursive: true, force: true });
  else console.log(`kept ${workDir} (ztunnel logs, stunnel config)`);
}
