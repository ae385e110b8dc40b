// npm run bench -- dns [--seconds N] [--rounds N] [--concurrency N]
// ztunnel's DNS proxy, every part its own process on loopback: an authoritative upstream (127.53.30.1:53, so
// root is needed for the resolv.conf line), a ztunnel in node mode (static config, client workload 127.0.30.2,
// DNS on 127.0.30.1:15053) and this process as the client. Three paths, interleaved over the rounds:
//   direct     client → upstream                       (the baseline: the same server, no proxy)
//   local      client → ztunnel, a mesh Service name    (answered from the store)
//   forwarded  client → ztunnel → upstream              (a name ztunnel does not know)
// Closed loop (N queries outstanding); answers/s and p50/p99 latency per run; cells are median (min–max).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dig } from '@ambient-ts/dns/testing';
import { cpuSeconds, machineBusySeconds, spawnRole, stopChild, type Role } from '../common/processes.ts';
import { cell, median, ratio } from '../ztunnel/stats.ts';
import { runLoad, type LoadResult } from './load.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
if (process.getuid?.() !== 0) {
  console.log('npm run bench -- dns needs root: the upstream listens on port 53 (resolv.conf names no port)');
  process.exit(2);
}

const here = import.meta.dirname;
const root = join(here, '..', '..', '..');
const upstreamAddress = { host: '127.53.30.1', port: 53 };
const dnsAddress = { host: '127.0.30.1', port: 15053 };
const client = '127.0.30.2';
const dir = mkdtempSync(join(tmpdir(), 'bench-dns-'));
writeFileSync(join(dir, 'resolv.conf'), `nameserver ${upstreamAddress.host}\noptions timeout:2 attempts:1\n`);
const yaml = `
workloads:
- {uid: b//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["${client}"], protocol: HBONE, node: bench}
services:
- {name: echo, namespace: default, hostname: echo.default.svc.cluster.local, vips: ["/10.96.30.1"], ports: {80: 8080}}
`;

const roles: Role[] = [];
const upstream = await spawnRole(join(here, 'roles.ts'), 'upstream', upstreamAddress, { track: roles });
const ztunnel = spawn(process.execPath, ['--conditions=ambient-ts-source', join(root, 'apps/ztunnel/src/main.ts')], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PROXY_MODE: 'node',
    NODE_NAME: 'bench',
    XDS_ADDRESS: '',
    FAKE_CA: 'true',
    LOCAL_XDS: yaml,
    LOG_FORMAT: 'json',
    RUST_LOG: 'warn',
    ADMIN_ADDR: '127.0.30.1:0',
    STATS_ADDR: '127.0.30.1:0',
    READINESS_ADDR: '127.0.30.1:0',
    ISTIO_META_DNS_PROXY_ADDR: `${dnsAddress.host}:${dnsAddress.port}`,
    DNS_RESOLV_CONF: join(dir, 'resolv.conf'),
  },
});
try {
  for (let tries = 0; ; tries++) {
    const answer = await dig(dnsAddress.host, dnsAddress.port, 'echo', { source: client, timeoutSeconds: 1 });
    if (answer.answers.length === 1) break;
    if (tries > 60) throw new Error(`ztunnel's DNS proxy did not answer: ${answer.raw}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const paths = {
    direct: { server: upstreamAddress, name: 'forwarded.example' },
    local: { server: dnsAddress, name: 'echo' },
    forwarded: { server: dnsAddress, name: 'forwarded.example' },
  } as const;
  type Path = keyof typeof paths;
  const results: Record<Path, (LoadResult & { ztunnelCpu: number; others: number })[]> = {
    direct: [],
    local: [],
    forwarded: [],
  };
  const measure = async (path: Path, durationMs: number) => {
    const cpuBefore = cpuSeconds(ztunnel.pid!);
    const busyBefore = machineBusySeconds();
    const ownBefore = process.cpuUsage();
    const upstreamBefore = cpuSeconds(upstream.pid);
    const result = await runLoad({ ...paths[path], source: client, concurrency, durationMs });
    const elapsed = durationMs / 1000;
    const own = process.cpuUsage(ownBefore);
    const ztunnelCpu = (cpuSeconds(ztunnel.pid!) - cpuBefore) / elapsed;
    const ours =
      ztunnelCpu + (cpuSeconds(upstream.pid) - upstreamBefore) / elapsed + (own.user + own.system) / 1e6 / elapsed;
    const others = Math.max(0, (machineBusySeconds() - busyBefore) / elapsed - ours);
    return { ...result, ztunnelCpu, others };
  };
  for (const path of Object.keys(paths) as Path[]) await measure(path, 1000); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const path of Object.keys(paths) as Path[]) results[path].push(await measure(path, seconds * 1000));
  }
  const col = (path: Path, pick: (r: LoadResult & { ztunnelCpu: number; others: number }) => number, digits = 0) =>
    cell(results[path].map(pick), digits);
  console.log(
    `\nDNS bench: ${rounds} rounds × ${seconds} s per path, ${concurrency} queries outstanding (UDP, closed loop), Node ${process.version}`,
  );
  console.log(
    `| path | answers/s | vs direct | p50 ms | p99 ms | ztunnel CPU (cores) | lost | errors | other load (cores) |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const path of Object.keys(paths) as Path[]) {
    const list = results[path];
    console.log(
      `| ${path} | ${col(path, (r) => r.perSecond)} | ${ratio(
        list.map((r) => r.perSecond),
        results.direct.map((r) => r.perSecond),
      )} | ${col(path, (r) => r.p50Ms, 2)} | ${col(path, (r) => r.p99Ms, 2)} | ${path === 'direct' ? '—' : col(path, (r) => r.ztunnelCpu, 2)} | ${list.reduce((a, r) => a + r.lost, 0)} | ${list.reduce((a, r) => a + r.errors, 0)} | ${cell(
        list.map((r) => r.others),
        2,
      )} |`,
    );
  }
  const median99 = (path: Path) => median(results[path].map((r) => r.p99Ms));
  console.log(
    `\nforwarded p99 adds ${(median99('forwarded') - median99('direct')).toFixed(2)} ms to the direct p99; local answers ${ratio(
      results.local.map((r) => r.perSecond),
      results.forwarded.map((r) => r.perSecond),
    )} the forwarded rate`,
  );
} finally {
  await stopChild(ztunnel);
  await Promise.all(roles.map((role) => role.stop()));
  rmSync(dir, { recursive: true, force: true });
}
