// A flood of 10k queries/s for 3 s: local answers, forwarded ones and ones to an upstream that never answers.
// The proxy keeps answering another client (dig) throughout, the forwarder never holds more than its cap,
// and memory stays bounded. Counters and answers are asserted, never timings.
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workload } from '@ambient-ts/discovery';
import {
  DnsProxy,
  Forwarder,
  bindDnsSockets,
  encodeQuery,
  podSearchDomains,
  serveDns,
  type DnsTransport,
} from '../src/index.ts';
import { dig, startTestUpstream, type TestUpstream } from '../src/testing.ts';
import { clientOf, meshStore } from './mesh-fixture.ts';

const hasDig = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasDig)(
  `DNS proxy under a 10k queries/s flood${hasDig ? '' : ' (skipped: needs dig from bind9-dnsutils)'}`,
  () => {
    let upstream: TestUpstream;
    let transport: DnsTransport;
    let forwarder: Forwarder;
    let port = 0;
    const outcomes = new Map<string, number>();
    const MAX_IN_FLIGHT = 256;

    beforeAll(async () => {
      const store = meshStore();
      const client = clientOf(store);
      upstream = await startTestUpstream({
        records: { 'forwarded.example': [{ type: 'A', data: '192.0.2.1' }] },
        silent: ['silent.example'],
      });
      forwarder = new Forwarder({
        upstreams: [{ host: upstream.host, port: upstream.port }],
        timeoutMs: 1000,
        attempts: 1,
        maxInFlight: MAX_IN_FLIGHT,
      });
      const proxy = new DnsProxy<Workload>({
        view: store,
        forwarder,
        clusterDomain: 'cluster.local',
        ipv6Enabled: true,
        searchDomains: (workload) => podSearchDomains(workload.namespace, 'cluster.local'),
        onEvent: (event) => {
          const key =
            event.kind === 'query'
              ? `${event.outcome}${event.upstream?.error ? ` ${event.upstream.error}` : ''}`
              : event.kind;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        },
      });
      const sockets = await bindDnsSockets('127.0.0.1', 0);
      port = sockets.port;
      transport = serveDns({
        ...sockets,
        handle: (message, context) => proxy.handle(message, { ...context, client: async () => client }),
      });
    });
    afterAll(async () => {
      await transport?.close();
      forwarder?.close();
      await upstream?.close();
    });

    it('keeps answering and stays bounded', async () => {
      const sender = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
      await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
      const answered = new Map<number, number>(); // rcode → count
      sender.on('message', (reply) => {
        const rcode = reply.readUInt16BE(2) & 0xf;
        answered.set(rcode, (answered.get(rcode) ?? 0) + 1);
      });
      const names = ['productpage', 'productpage.ns1.svc.cluster.local', 'forwarded.example', 'silent.example'];
      const messages = names.map((name, i) => encodeQuery(name, 'A', i + 1));
      globalThis.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let sent = 0;
      const digs: Promise<Awaited<ReturnType<typeof dig>>>[] = [];
      // 100 datagrams every 10 ms (10k/s) until 30k are sent; every 500 ms another client asks with dig, retrying
      // like a stub resolver (a flood may overflow the kernel's receive queue: UDP loss hits everyone alike)
      const digTimer = setInterval(
        () => digs.push(dig('127.0.0.1', port, 'productpage', { timeoutSeconds: 1, tries: 4 })),
        500,
      );
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          for (let i = 0; i < 100; i++) sender.send(messages[sent++ % messages.length]!, port, '127.0.0.1');
          if (sent >= 30_000) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
      });
      clearInterval(digTimer);
      const results = await Promise.all(digs);
      // every dig during the flood got the local answer
      expect(results.length).toBeGreaterThanOrEqual(5);
      for (const result of results) expect(result.answers.map((a) => a.data)).toEqual(['9.9.9.9']);
      // the forwarder never held more than its cap; the rest were refused at once (SERVFAIL), not queued
      expect(forwarder.inFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      // wait for the last timeouts, then every query handled has its answer and its counted outcome
      await expect.poll(() => forwarder.inFlight, { timeout: 5000 }).toBe(0);
      await expect.poll(() => transport.stats.udpInFlight, { timeout: 5000 }).toBe(0);
      const handled = [...outcomes.values()].reduce((a, b) => a + b, 0);
      const replies = [...answered.values()].reduce((a, b) => a + b, 0);
      sender.close();
      expect(sent).toBe(30_000);
      // UDP may lose datagrams under load on loopback; what was handled was answered (digs included)
      expect(handled).toBeGreaterThan(sent * 0.5);
      expect(replies).toBeGreaterThanOrEqual(handled - results.length - 5);
      expect(outcomes.get('local')).toBeGreaterThan(sent * 0.25);
      expect(outcomes.get('forwarded')).toBeGreaterThan(0);
      // the silent upstream's queries: timeouts (up to the cap at a time) and refusals beyond it
      expect(
        (outcomes.get('forward failed DNS_UPSTREAM_TIMEOUT') ?? 0) +
          (outcomes.get('forward failed DNS_OVERLOADED') ?? 0),
      ).toBeGreaterThan(0);
      expect(answered.get(2)).toBeGreaterThan(0); // SERVFAIL for those
      globalThis.gc?.();
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 << 20);
    }, 30_000);
  },
);
