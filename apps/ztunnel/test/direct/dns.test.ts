// ztunnel's DNS proxy (facts §10) in node and dedicated modes, asked by Debian's dig from the client pod's
// address: mesh names answered locally, the rest forwarded to the nameserver of DNS_RESOLV_CONF (a small
// authoritative server on 127.53.x.y:53, which needs root), ztunnel's DNS metrics and access log, and SOCKS5
// domain targets resolved through the same resolver (ztunnel's test_hostname_request_local).
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuery } from '@ambient-ts/dns';
import { dig, startTestUpstream, type TestUpstream } from '@ambient-ts/dns/testing';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually, metricValue } from '../helpers/observe.ts';

const hasDig = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const isRoot = process.getuid?.() === 0;
const skipReason = !hasDig
  ? ' (skipped: needs dig from bind9-dnsutils)'
  : !isRoot
    ? ' (skipped: needs root for an upstream on port 53)'
    : '';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.15.2"], protocol: HBONE, node: node-a, canonicalName: client-app, canonicalRevision: v1}
- {uid: c//Pod/default/server, name: server, namespace: default, serviceAccount: server, trustDomain: cluster.local, workloadIps: ["127.0.15.1"], protocol: HBONE, node: node-a, services: {"default/echo.default.svc.cluster.local": {80: 8080}}}
- {uid: c//Pod/default/dnsonly, name: dnsonly, namespace: default, serviceAccount: dnsonly, trustDomain: cluster.local, workloadIps: [], hostname: dnsonly-backend.example, protocol: TCP, node: node-b, services: {"default/dnsonly.default.svc.cluster.local": {80: 8080}}}
services:
- {name: echo, namespace: default, hostname: echo.default.svc.cluster.local, vips: ["/127.10.15.1"], ports: {80: 8080}}
- {name: ext, namespace: default, hostname: ext.example.com, vips: ["/127.10.15.2"], ports: {80: 8080}}
- {name: dnsonly, namespace: default, hostname: dnsonly.default.svc.cluster.local, vips: ["/127.10.15.3"], ports: {80: 8080}}
`;

describe.skipIf(skipReason !== '')(`ztunnel DNS proxy${skipReason}`, () => {
  let upstream: TestUpstream;
  let node: StartedZtunnel;
  let dedicated: StartedZtunnel;
  let app: Server;
  let dir: string;
  const ask = (name: string, options: Parameters<typeof dig>[3] = {}) =>
    dig('127.0.0.1', node.ztunnel.ports.dns!, name, { source: '127.0.15.2', ...options });

  beforeAll(async () => {
    const host = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    upstream = await startTestUpstream({
      host,
      port: 53,
      records: {
        'forwarded.example': [{ type: 'A', data: '192.0.2.7' }],
        // the hostname-only workload's address, found by on-demand DNS
        'dnsonly-backend.example': [{ type: 'A', data: '127.0.15.1' }],
      },
      silent: ['silent.example'],
    });
    dir = mkdtempSync(join(tmpdir(), 'ztunnel-dns-'));
    writeFileSync(join(dir, 'resolv.conf'), `search corp.example\nnameserver ${host}\noptions timeout:1 attempts:1\n`);
    app = await startEchoServer('127.0.15.1', 8080);
    const env = {
      LOCAL_XDS: yaml,
      DNS_RESOLV_CONF: join(dir, 'resolv.conf'),
      DNS_UPSTREAM_TIMEOUT: '300ms',
      RUST_LOG: 'info,access:debug,dns:debug',
    };
    node = await startZtunnel({ ...env, NODE_NAME: 'node-a' });
    dedicated = await startZtunnel({ ...env, PROXY_MODE: 'dedicated', PROXY_WORKLOAD_INFO: 'default/client/client' });
  });
  afterAll(async () => {
    await Promise.all([node?.ztunnel.drain(200), dedicated?.ztunnel.drain(200)]);
    app?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([['udp'], ['tcp']])(
    '%s: Service names from the client pod, in every Kubernetes form, answered locally',
    async (protocol) => {
      for (const name of ['echo', 'echo.default', 'echo.default.svc', 'echo.default.svc.cluster.local']) {
        const result = await ask(name, { tcp: protocol === 'tcp' });
        expect(result.status, name).toBe('NOERROR');
        expect(result.flags, name).toContain('aa');
        expect(result.answers, name).toEqual([{ name, ttl: 30, type: 'A', data: '127.10.15.1' }]);
      }
      expect(upstream.asked).not.toContain('echo');
    },
  );

  it('other names are forwarded to the resolv.conf nameserver; failures and timeouts are counted', async () => {
    const forwarded = await ask('forwarded.example');
    expect(forwarded.answers.map((a) => a.data)).toEqual(['192.0.2.7']);
    expect(forwarded.flags).not.toContain('aa');
    expect((await ask('nothing.example')).status).toBe('NXDOMAIN');
    expect((await ask('silent.example')).status).toBe('SERVFAIL');
    const labels = {
      request_query_type: 'a',
      request_protocol: 'udp',
      source_canonical_service: 'client-app',
      source_canonical_revision: 'v1',
    };
    const metrics = await node.metrics();
    expect(metricValue(metrics, 'istio_dns_requests_total', labels)).toBeGreaterThanOrEqual(7);
    expect(metricValue(metrics, 'istio_dns_upstream_requests_total', labels)).toBe(3);
    expect(metricValue(metrics, 'istio_dns_upstream_failures_total', labels)).toBe(1);
    expect(metricValue(metrics, 'istio_dns_upstream_request_duration_seconds_count', labels)).toBe(3);
    const line = node
      .logs()
      .find((entry) => entry['message'] === 'dns request' && entry['domain'] === 'forwarded.example');
    expect(line).toMatchObject({
      'src.workload': 'client',
      'src.namespace': 'default',
      query: 'A',
      result: 'forwarded',
      endpoints: 1,
    });
  });

  it('a query from an address no local workload owns: SERVFAIL after the 5 s wait, counted with unknown labels', async () => {
    const result = await ask('echo', { source: '127.0.15.99', timeoutSeconds: 8 });
    expect(result.status).toBe('SERVFAIL');
    expect(
      metricValue(await node.metrics(), 'istio_dns_requests_total', {
        request_query_type: 'a',
        source_canonical_service: 'unknown',
      }),
    ).toBe(1);
  }, 15_000);

  it('a flood from an unknown address does not starve the client pod: all but 16 get SERVFAIL at once, the pod is answered', async () => {
    const flooder = createSocket('udp4');
    await new Promise<void>((resolve) => flooder.bind(0, '127.0.15.98', resolve));
    let servfail = 0;
    flooder.on('message', (reply) => {
      if ((reply.readUInt16BE(2) & 0xf) === 2) servfail++;
    });
    // 1000 queries in batches of 50 (one burst would overflow the receive queues: UDP loss, not the point here)
    for (let batch = 0; batch < 20; batch++) {
      for (let i = batch * 50; i < (batch + 1) * 50; i++) {
        flooder.send(encodeQuery(`q${i}.example`, 'A', i), node.ztunnel.ports.dns!, '127.0.0.1');
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const result = await ask('echo', { timeoutSeconds: 1, tries: 3 });
    expect(result.answers.map((a) => a.data)).toEqual(['127.10.15.1']);
    // well before the 5 s wait ends, (nearly) everything beyond the 16 waiting ones was answered SERVFAIL
    expect(
      await eventually(
        async () => servfail,
        (n) => n >= 900,
        4000,
      ),
    ).toBeGreaterThanOrEqual(900);
    expect(upstream.asked.some((name) => name.startsWith('q'))).toBe(false);
    flooder.close();
  });

  it('a malformed packet gets FORMERR and the rejected counter; the next query is answered', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.15.2', resolve));
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f]), node.ztunnel.ports.dns!, '127.0.0.1');
    const answer = await reply;
    socket.close();
    expect(answer.readUInt16BE(0)).toBe(0xabcd);
    expect(answer.readUInt16BE(2) & 0xf).toBe(1);
    expect(metricValue(await node.metrics(), 'istio_dns_rejected_requests_total', { reason: 'malformed' })).toBe(1);
    expect((await ask('echo')).answers).toHaveLength(1);
  });

  it('SOCKS5 domain targets resolve through the same resolver: a short Service name reaches the server', async () => {
    const socket = await socksConnect({
      proxy: node.socks,
      target: { host: 'echo', port: 80 },
      localAddress: '127.0.15.2',
    });
    expect(await roundTrip(socket, 'dns')).toBe('dnsdns');
    const line = await eventually(
      async () => node.logs().find((e) => e['message'] === 'connection complete' && e['direction'] === 'outbound'),
      (found) => found !== undefined,
    );
    expect(line).toMatchObject({ 'dst.service': 'echo.default.svc.cluster.local' });
  });

  it('a workload known only by hostname is resolved by on-demand DNS through the same resolver, counted per connection', async () => {
    for (const payload of ['one', 'two']) {
      const socket = await socksConnect({
        proxy: node.socks,
        target: { host: '127.10.15.3', port: 80 },
        localAddress: '127.0.15.2',
      });
      expect(await roundTrip(socket, payload)).toBe(payload + payload);
    }
    const metrics = await node.metrics();
    expect(
      metricValue(metrics, 'istio_on_demand_dns_total', {
        hostname: 'dnsonly-backend.example',
        source_workload: 'client',
        source_canonical_service: 'client-app',
        source_principal: 'spiffe://cluster.local/ns/default/sa/client',
      }),
    ).toBe(2);
    expect(upstream.asked.filter((name) => name === 'dnsonly-backend.example').length).toBeGreaterThanOrEqual(2);
  });

  it('dedicated mode: the one workload is the client whatever the source; its resolv.conf search list is stripped', async () => {
    const port = dedicated.ztunnel.ports.dns!;
    const result = await dig('127.0.0.1', port, 'ext.example.com.corp.example');
    expect(result.answers.map((a) => `${a.type} ${a.name} ${a.data}`)).toEqual([
      'CNAME ext.example.com.corp.example ext.example.com',
      'A ext.example.com 127.10.15.2',
    ]);
  });

  it('ISTIO_META_DNS_CAPTURE=false: no DNS listener', async () => {
    const off = await startZtunnel({ LOCAL_XDS: yaml, NODE_NAME: 'node-a', ISTIO_META_DNS_CAPTURE: 'false' });
    try {
      expect(off.ztunnel.ports.dns).toBeUndefined();
    } finally {
      await off.ztunnel.drain(200);
    }
  });
});
