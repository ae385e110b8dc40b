// Benchmark: HBONE tunnels against direct TCP and a stunnel pair, every row measured in this run, as
// separate processes on loopback (load generator = this process, sink, client proxy, server proxy).
//   npm run bench -- hbone [--seconds 3] [--runs 3] [--tunnels 10000] [--only throughput,rate,idle]
//   npx node --conditions=ambient-ts-source tools/bench/hbone/main.ts
// Rows: single-tunnel throughput both directions (HBONE/direct, HBONE/stunnel), new tunnels per second
// over pooled connections (baseline: new TCP connections with the same 1-byte echo), and RSS per idle
// tunnel with 10k tunnels open. Each measurement runs `runs` times; the table shows medians.
// stunnel4 comes from Debian; when it is missing the bench runs `apt-get install -y stunnel4` (as root)
// or says how to install it and leaves the stunnel rows out.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCa, createLeaf, type Fixture } from '@ambient-ts/pki/testing';
import { download, gbps, upload, type Transfer } from './load.ts';
import { cpuSeconds, rateRun, spawnRole, type Child } from './processes.ts';
import { startStunnel } from '../common/stunnel.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    tunnels: { type: 'string', default: '10000' },
    only: { type: 'string', default: 'throughput,rate,idle' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const tunnels = Number(values.tunnels);
const only = new Set(values.only.split(','));
const serverId = 'spiffe://cluster.local/ns/bench/sa/server';
const clientId = 'spiffe://cluster.local/ns/bench/sa/client';

const certDir = mkdtempSync(join(tmpdir(), 'hbone-bench-'));
const root: Fixture = createCa({ commonName: 'hbone bench root' });
writeFileSync(join(certDir, 'root.pem'), root.certPem);
for (const [name, id] of [
  ['server', serverId],
  ['client', clientId],
] as const) {
  const leaf = createLeaf({ issuer: root, uris: [id] });
  writeFileSync(join(certDir, `${name}.pem`), leaf.certPem);
  writeFileSync(join(certDir, `${name}-key.pem`), leaf.keyPem);
}
const base = { certDir, serverId, clientId };
const children: Child[] = [];
const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const fmt = (value: number, digits = 2): string => value.toFixed(digits);

interface Path {
  port: number;
  /** Proxy processes whose CPU time is charged to this path. */
  pids: number[];
}

interface PathResult {
  up: number[];
  down: number[];
  /** Proxy CPU seconds per GB moved. */
  cpu: number[];
}

async function measured(path: Path, run: () => Promise<Transfer>): Promise<{ gbps: number; cpuPerGb: number }> {
  const before = path.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const transfer = await run();
  const after = path.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return { gbps: gbps(transfer), cpuPerGb: path.pids.length ? (after - before) / (transfer.bytes / 1e9) : 0 };
}

async function throughput(): Promise<void> {
  const sink = await spawnRole('sink', base, children);
  const server = await spawnRole('hbone-server', base, children);
  const authority = `127.0.0.1:${sink.info.port}`;
  const client = await spawnRole('hbone-client', { ...base, server: server.info, authority }, children);
  const stunnel = await startStunnel(certDir, { sink: { host: '127.0.0.1', port: sink.info.port as number } });
  const paths: Record<string, Path> = {
    direct: { port: sink.info.port as number, pids: [] },
    hbone: { port: client.info.port as number, pids: [client.pid, server.pid] },
  };
  if (stunnel) paths['stunnel'] = { port: stunnel.ports['sink']!, pids: stunnel.pids };
  const results: Record<string, PathResult> = {};
  for (const name of Object.keys(paths)) results[name] = { up: [], down: [], cpu: [] };
  const ms = seconds * 1000;
  // Interleaved, so a burst of load from elsewhere on the machine hits every path alike.
  for (let run = 0; run < runs; run++) {
    for (const [name, path] of Object.entries(paths)) {
      const up = await measured(path, () => upload(path.port, ms));
      const down = await measured(path, () => download(path.port, ms));
      results[name]!.up.push(up.gbps);
      results[name]!.down.push(down.gbps);
      results[name]!.cpu.push((up.cpuPerGb + down.cpuPerGb) / 2);
    }
  }
  await stunnel?.stop();
  const st = results['stunnel'];
  const direct = results['direct']!;
  const ratio = (value: number, baseline: number[] | undefined): string =>
    baseline ? `${fmt(value / median(baseline))}×` : 'n/a';
  console.log(`\nSingle-tunnel throughput, Gb/s (median of ${runs} × ${seconds} s each way; 256 KiB writes)`);
  console.log(
    '| path | upload | download | upload vs direct | download vs direct | upload vs stunnel | download vs stunnel | proxy CPU s/GB | CPU vs stunnel |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, result] of Object.entries(results)) {
    const up = median(result.up);
    const down = median(result.down);
    const cpu = median(result.cpu);
    const cells = [
      name,
      fmt(up),
      fmt(down),
      ratio(up, direct.up),
      ratio(down, direct.down),
      ratio(up, st?.up),
      ratio(down, st?.down),
      name === 'direct' ? '-' : fmt(cpu),
      name === 'direct' || !st ? '-' : ratio(cpu, st.cpu),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(`raw runs: ${JSON.stringify(results)}`);
}

async function rate(): Promise<void> {
  const concurrency = 64;
  const rows = [
    { name: 'new TCP connection (baseline)', server: 'tcp-echo', client: 'tcp-rate' },
    { name: 'bare node:http2 CONNECT stream, same mTLS (baseline)', server: 'bare-h2-server', client: 'bare-h2-rate' },
    { name: 'new HBONE tunnel on pooled connections', server: 'hbone-server', client: 'rate' },
  ];
  const results = rows.map(() => ({ perSecond: [] as number[], cpu: [] as number[] }));
  for (let run = 0; run < runs; run++) {
    for (const [index, row] of rows.entries()) {
      const info = await rateRun(row.server, row.client, { ...base, echo: true, seconds, concurrency });
      results[index]!.perSecond.push(info['perSecond']!);
      results[index]!.cpu.push(info['clientCpuUs']! + info['serverCpuUs']!);
    }
  }
  console.log(
    `\nNew tunnels per second (median of ${runs} × ${seconds} s, ${concurrency} in flight, 1-byte echo each)`,
  );
  console.log('| path | per second | vs TCP | vs bare node:http2 | CPU µs per tunnel (client + server) |');
  console.log('|---|---:|---:|---:|---:|');
  const tcp = median(results[0]!.perSecond);
  const bare = median(results[1]!.perSecond);
  for (const [index, row] of rows.entries()) {
    const perSecond = median(results[index]!.perSecond);
    const cells = [
      row.name,
      fmt(perSecond, 0),
      `${fmt(perSecond / tcp)}×`,
      `${fmt(perSecond / bare)}×`,
      fmt(median(results[index]!.cpu), 0),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(`raw runs: ${JSON.stringify(results)}`);
}

async function idle(): Promise<void> {
  const rows = [
    { name: 'bare node:http2 over the same mTLS (baseline)', server: 'bare-h2-server', client: 'bare-h2-idle' },
    { name: 'HBONE', server: 'hbone-server', client: 'idle' },
  ];
  const results = rows.map(() => ({ server: [] as number[], client: [] as number[] }));
  for (let run = 0; run < runs; run++) {
    for (const [index, row] of rows.entries()) {
      const server = await spawnRole(row.server, { ...base, echo: true }, children);
      const holder = await spawnRole(row.client, { ...base, server: server.info }, children);
      await holder.request({ cmd: 'open', count: 200 });
      const s0 = (await server.request({ cmd: 'rss' })).rss as number;
      const c0 = (await holder.request({ cmd: 'rss' })).rss as number;
      await holder.request({ cmd: 'open', count: tunnels });
      const s1 = (await server.request({ cmd: 'rss' })).rss as number;
      const c1 = (await holder.request({ cmd: 'rss' })).rss as number;
      results[index]!.server.push((s1 - s0) / tunnels);
      results[index]!.client.push((c1 - c0) / tunnels);
      holder.kill();
      server.kill();
    }
  }
  console.log(
    `\nRSS per idle tunnel with ${tunnels} tunnels open (after GC; median of ${runs}; 100 streams per connection)`,
  );
  console.log('| path | server bytes per tunnel | client bytes per tunnel |');
  console.log('|---|---:|---:|');
  for (const [index, row] of rows.entries()) {
    console.log(
      `| ${row.name} | ${fmt(median(results[index]!.server), 0)} | ${fmt(median(results[index]!.client), 0)} |`,
    );
  }
}

try {
  console.log(`hbone bench: ${runs} runs × ${seconds} s per row, Node ${process.version}`);
  if (only.has('throughput')) await throughput();
  if (only.has('rate')) await rate();
  if (only.has('idle')) await idle();
} finally {
  for (const child of children) child.kill('SIGINT' as never);
  await new Promise((r) => setTimeout(r, 1500));
  rmSync(certDir, { recursive: true, force: true });
}
