// The operator HTTP servers over real sockets.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createAdminServer,
  createMetricsServer,
  createReadinessServer,
  Logging,
  ProxyMetrics,
  Readiness,
  trafficLabels,
} from '../src/index.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('metrics server', () => {
  it('serves Istio TCP metrics with the full label set on /metrics and /stats/prometheus', async () => {
    const metrics = new ProxyMetrics({ component: 'ztunnel', version: '1.2.3', processMetrics: false });
    const labels = trafficLabels({
      reporter: 'source',
      source: { workloadName: 'client', canonicalName: 'client', namespace: 'default', clusterId: 'Kubernetes' },
      sourcePrincipal: 'spiffe://cluster.local/ns/default/sa/client',
      destination: { workloadName: 'server', namespace: 'default' },
      destinationService: { hostname: 'server.default.svc.cluster.local', namespace: 'default', name: 'server' },
      mutualTls: true,
    });
    metrics.connectionsOpened.inc(labels);
    metrics.receivedBytes.inc(labels, 11);
    const base = await listen(createMetricsServer(metrics));
    for (const path of ['/metrics', '/stats/prometheus']) {
      const text = await (await fetch(base + path)).text();
      expect(text).toContain(
        'istio_tcp_connections_opened_total{reporter="source",source_workload="client",source_canonical_service="client",' +
          'source_canonical_revision="unknown",source_workload_namespace="default",source_principal="spiffe://cluster.local/ns/default/sa/client",' +
          'source_app="client",source_version="unknown",source_cluster="Kubernetes",destination_service="server.default.svc.cluster.local",' +
          'destination_service_namespace="default",destination_service_name="server",destination_workload="server",' +
          'destination_canonical_service="unknown",destination_canonical_revision="unknown",destination_workload_namespace="default",' +
          'destination_principal="unknown",destination_app="unknown",destination_version="unknown",destination_cluster="unknown",' +
          'request_protocol="tcp",response_flags="-",connection_security_policy="mutual_tls",source_region="unknown",source_zone="unknown",' +
          'destination_region="unknown",destination_zone="unknown"} 1',
      );
      expect(text).toMatch(/istio_tcp_received_bytes_total\{reporter="source".*\} 11/);
      expect(text).toContain('istio_build{component="ztunnel",tag="1.2.3"} 1');
    }
  });

  it('marks only non-stable metrics as unstable in HELP', async () => {
    const metrics = new ProxyMetrics({ component: 'ztunnel', version: 'x', processMetrics: false });
    const stable = new Set([
      'istio_tcp_connections_opened_total',
      'istio_tcp_connections_closed_total',
      'istio_tcp_received_bytes_total',
      'istio_tcp_sent_bytes_total',
      'istio_build',
    ]);
    const help = (await metrics.render()).split('\n').filter((line) => line.startsWith('# HELP '));
    expect(help.length).toBeGreaterThan(8);
    for (const line of help) {
      const name = line.split(' ')[2]!;
      expect(line.includes('unstable'), name).toBe(!stable.has(name));
    }
  });

  it('gives identical payloads for gzip, br, zstd and identity', async () => {
    const metrics = new ProxyMetrics({ component: 'ztunnel', version: 'x', processMetrics: false });
    const base = await listen(createMetricsServer(metrics));
    const get = async (encoding: string) => {
      const response = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': encoding } });
      return { encoding: response.headers.get('content-encoding'), body: Buffer.from(await response.arrayBuffer()) };
    };
    // fetch transparently decodes gzip/br/zstd; compare against the raw identity body.
    const plain = await get('identity');
    expect(plain.encoding).toBeNull();
    for (const encoding of ['gzip', 'br', 'zstd']) {
      const result = await get(encoding);
      expect(result.encoding).toBe(encoding);
      expect(result.body.toString()).toBe(plain.body.toString());
    }
    // And decode by hand once, to be sure the server really compressed.
    const raw = await import('node:http').then(
      ({ get: httpGet }) =>
        new Promise<Buffer[]>((resolve) => {
          const parts: Buffer[] = [];
          const results: Buffer[] = [];
          let left = 3;
          for (const [encoding, decode] of [
            ['gzip', gunzipSync],
            ['br', brotliDecompressSync],
            ['zstd', zstdDecompressSync],
          ] as const) {
            httpGet(`${base}/metrics`, { headers: { 'accept-encoding': encoding } }, (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => {
                results.push(decode(Buffer.concat(chunks)));
                if (--left === 0) resolve(results);
              });
            });
          }
          void parts;
        }),
    );
    for (const body of raw) expect(body.toString()).toBe(plain.body.toString());
  });
});

describe('readiness server', () => {
  it('says which tasks are pending until all complete', async () => {
    const readiness = new Readiness();
    readiness.register('state manager');
    readiness.register('proxy');
    const base = await listen(createReadinessServer(readiness));
    let response = await fetch(`${base}/healthz/ready`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('not ready, pending: proxy, state manager\n');
    readiness.complete('proxy');
    readiness.complete('state manager');
    response = await fetch(`${base}/healthz/ready`);
    expect([response.status, await response.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });
});

describe('admin server', () => {
  it('serves config_dump, logging (POST only) and quitquitquit', async () => {
    let quits = 0;
    const logging = new Logging({ destination: new PassThrough() });
    const base = await listen(
      createAdminServer({ configDump: () => ({ workloads: [], services: [] }), logging, quit: () => quits++ }),
    );
    expect(await (await fetch(`${base}/config_dump`)).json()).toEqual({ workloads: [], services: [] });
    const get = await fetch(`${base}/logging`);
    expect(get.status).toBe(405);
    expect(await get.text()).toContain('usage: POST /logging');
    let post = await fetch(`${base}/logging?level=access:debug`, { method: 'POST' });
    expect(await post.text()).toBe('current log level is info,access:debug\n');
    post = await fetch(`${base}/logging?level=loud`, { method: 'POST' });
    expect(post.status).toBe(400);
    expect(await post.text()).toContain('invalid log level "loud"');
    post = await fetch(`${base}/logging?reset`, { method: 'POST' });
    expect(await post.text()).toBe('current log level is info\n');
    expect((await fetch(`${base}/quitquitquit`)).status).toBe(405);
    expect(quits).toBe(0);
    expect((await fetch(`${base}/quitquitquit`, { method: 'POST' })).status).toBe(200);
    expect(quits).toBe(1);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
