// The tables: a row per measurement, a column per path, ratios and added latency against the baselines
// from the same run, the issue's targets with met/missed (never a failure), and how busy the rest of the
// machine was while we measured. One table per trio of paths with the same rows: loopback (direct, ztunnel
// through SOCKS5, stunnel) and network namespaces (direct-netns, captured, stunnel-netns).
import { cpus } from 'node:os';
import { added, cell, median, ratio } from './stats.ts';

export interface Results {
  /** path → metric → one value per run. */
  paths: Record<string, Record<string, number[]>>;
  /** phase → cores kept busy by processes other than the bench's, one value per run. */
  other: Record<string, number[]>;
}

interface Settings {
  runs: number;
  seconds: number;
  latencySeconds: number;
  rps: number;
  connections: number;
  rateSeconds: number;
  concurrency: number;
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? ' — met' : ' — **missed**');

/** One table: the baseline path, the ztunnel path and the native (stunnel) path, with their headings. */
export interface Trio {
  title: string;
  paths: { direct: string; ztunnel: string; stunnel: string };
  headings: { direct: string; ztunnel: string; stunnel: string };
}

export const LOOPBACK: Trio = {
  title: 'loopback: ztunnel ×2 (A: SOCKS5 → HBONE, B: HBONE → app) vs direct vs stunnel pair',
  paths: { direct: 'direct', ztunnel: 'ztunnel', stunnel: 'stunnel' },
  headings: { direct: 'direct', ztunnel: 'ztunnel A→B', stunnel: 'stunnel pair' },
};

export const NETNS: Trio = {
  title:
    'network namespaces: captured = client in pod A (node0) → in-pod iptables → shared-mode ztunnel A → HBONE → ' +
    'ztunnel B → app in pod B (node1), no proxy settings; direct-netns and stunnel-netns run pod C (node0) → ' +
    'pod D (node1), wired like A and B but not captured',
  paths: { direct: 'direct-netns', ztunnel: 'captured', stunnel: 'stunnel-netns' },
  headings: { direct: 'direct-netns', ztunnel: 'captured A→B', stunnel: 'stunnel-netns' },
};

export function printReport(
  results: Results,
  settings: Settings,
  load: { start: number[]; end: number[] },
  trios: readonly Trio[] = [LOOPBACK],
): void {
  for (const trio of trios) {
    if (Object.values(trio.paths).some((path) => results.paths[path])) printTable(results, settings, trio);
  }
  printLoad(results, load);
}

function printTable(results: Results, settings: Settings, trio: Trio): void {
  const direct = results.paths[trio.paths.direct] ?? {};
  const zt = results.paths[trio.paths.ztunnel] ?? {};
  const st = results.paths[trio.paths.stunnel];
  const m = (list: number[] | undefined): number | undefined => (list?.length ? median(list) : undefined);
  const below = (list: number[] | undefined, limit: number): boolean | undefined => {
    const value = m(list);
    return value === undefined ? undefined : value <= limit;
  };
  const atLeast = (value: number[] | undefined, baseline: number[] | undefined, limit: number): boolean | undefined =>
    value?.length && baseline?.length ? median(value) / median(baseline) >= limit : undefined;
  const rows: string[][] = [];
  const row = (name: string, metric: string, digits: number, target = '', prefix = ''): void => {
    rows.push([
      name,
      cell(direct[metric], digits, prefix),
      cell(zt[metric], digits, prefix),
      cell(st?.[metric], digits, prefix),
      ratio(zt[metric], st?.[metric]),
      ratio(zt[metric], direct[metric]),
      target,
    ]);
  };
  const addedRow = (name: string, metric: string, target = ''): void => {
    rows.push([
      name,
      '–',
      cell(added(zt[metric], direct[metric]), 3, '+'),
      cell(added(st?.[metric], direct[metric]), 3, '+'),
      '',
      '',
      target,
    ]);
  };
  const shape = `${settings.connections} conn × ${settings.rps / settings.connections} req/s`;
  if (direct['up']) {
    row(
      'throughput upload, Gb/s (1 connection)',
      'up',
      2,
      `≥ 0.8× stunnel${verdict(atLeast(zt['up'], st?.['up'], 0.8))}`,
    );
    row(
      'throughput download, Gb/s (1 connection)',
      'down',
      2,
      `≥ 0.8× stunnel${verdict(atLeast(zt['down'], st?.['down'], 0.8))}`,
    );
    row('proxy CPU s per GB moved (both proxies)', 'cpuPerGB', 2);
  }
  if (direct['p50']) {
    row(`latency p50, ms (${shape}, open loop)`, 'p50', 3);
    row('latency p99, ms', 'p99', 3);
    row('latency p99.9, ms', 'p999', 3);
    addedRow('added p50 over direct, ms', 'p50');
    const p99 = added(zt['p99'], direct['p99']);
    addedRow('added p99 over direct, ms', 'p99', `≤ +0.5 ms${verdict(below(p99, 0.5))}`);
    row('achieved req/s', 'rate', 0);
    row('requests queued behind a late response, %', 'queuedPercent', 2);
    row(
      'CPU s per 1000 req (= vCPU at 1000 req/s), client-side proxy',
      'clientSideCpu',
      3,
      `≤ 0.1${verdict(below(zt['clientSideCpu'], 0.1))}`,
    );
    row(
      'CPU s per 1000 req, server-side proxy',
      'serverSideCpu',
      3,
      `≤ 0.1${verdict(below(zt['serverSideCpu'], 0.1))}`,
    );
    row('RSS under that load, MiB, client-side proxy', 'clientSideRss', 1);
    row('RSS under that load, MiB, server-side proxy', 'serverSideRss', 1);
  }
  if (zt['clientSideIdle']) {
    row('RSS when ready (idle), MiB, client-side proxy', 'clientSideIdle', 1);
    row('RSS when ready (idle), MiB, server-side proxy', 'serverSideIdle', 1);
  }
  if (zt['clientSidePeak']) {
    row('peak RSS over the whole run, MiB, client-side proxy', 'clientSidePeak', 1);
    row('peak RSS over the whole run, MiB, server-side proxy', 'serverSidePeak', 1);
  }
  if (direct['connections'])
    row(`new connections/s (${settings.concurrency} in flight, 1-byte echo)`, 'connections', 0, 'no target');

  const { direct: d, ztunnel: z, stunnel: s } = trio.headings;
  console.log(`\n${trio.title}; median (min–max) of ${settings.runs} runs, runs interleaved across all paths`);
  console.log(
    `| measurement | ${d} | ${z} | ${s} | ${trio.paths.ztunnel} ÷ ${s} | ${trio.paths.ztunnel} ÷ ${d} | target |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const cells of rows) console.log(`| ${cells.join(' | ')} |`);
}

function printLoad(results: Results, load: { start: number[]; end: number[] }): void {
  const cores = cpus().length;
  console.log(
    '\nOther load on the machine while measuring (CPU cores busy outside this bench; machine has ' + `${cores}):`,
  );
  for (const [phase, list] of Object.entries(results.other)) {
    const flag =
      Math.max(...list) > 0.25 * cores ? '  ← HIGH: other processes competed for the CPU; treat ratios with care' : '';
    console.log(`  ${phase}: ${cell(list, 2)} cores${flag}`);
  }
  const averages = (values: number[]): string => values.map((value) => value.toFixed(2)).join(' ');
  // At start nothing of ours runs yet, so a high 1-minute average there is other people's load.
  const high = load.start[0]! > 0.75 * cores;
  console.log(
    `  load average at start: ${averages(load.start)}` +
      `${high ? `  ← HIGH (above ${0.75 * cores} on ${cores} cores before the bench started)` : ''}`,
  );
  console.log(`  load average at end: ${averages(load.end)} (includes this bench's own processes)`);
  console.log(`\nraw runs: ${JSON.stringify(results)}`);
}
