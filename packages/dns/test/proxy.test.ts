// The proxy over real UDP and TCP sockets, asked by Debian's dig (an independent client), forwarding to a
// small authoritative upstream on loopback.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workload } from '@ambient-ts/discovery';
import {
  DnsProxy,
  Forwarder,
  addressesOf,
  bindDnsSockets,
  decodeIncoming,
  encodeQuery,
  podSearchDomains,
  serveDns,
  type DnsEvent,
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

// dnspython from Debian (python3-dnspython), a second independent client
const hasDnspython = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import dns.message'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const manyA = Array.from({ length: 100 }, (_, i) => ({ type: 'A' as const, data: `192.0.2.${i + 1}` }));
// ~60 KiB of TXT: only TCP carries it
const hugeTxt = Array.from({ length: 240 }, (_, i) => ({ type: 'TXT' as const, data: `${i}`.padEnd(240, 'x') }));

describe.skipIf(!hasDig)(`DNS proxy over UDP/TCP${hasDig ? '' : ' (skipped: needs dig from bind9-dnsutils)'}`, () => {
  let upstream: TestUpstream;
  let transport: DnsTransport;
  let proxy: DnsProxy<Workload>;
  let port = 0;
  const events: DnsEvent<Workload>[] = [];
  const store = meshStore();
  const client = clientOf(store);

  beforeAll(async () => {
    upstream = await startTestUpstream({
      records: {
        'forwarded.example': [{ type: 'A', data: '192.0.2.200' }],
        'many.example': manyA,
        'huge.example': hugeTxt,
      },
      silent: ['silent.example'],
    });
    const forwarder = new Forwarder({
      upstreams: [{ host: upstream.host, port: upstream.port }],
      timeoutMs: 300,
      attempts: 1,
    });
    proxy = new DnsProxy<Workload>({
      view: store,
      forwarder,
      clusterDomain: 'cluster.local',
      ipv6Enabled: true,
      searchDomains: (workload) => podSearchDomains(workload.namespace, 'cluster.local'),
      onEvent: (event) => events.push(event),
    });
    const sockets = await bindDnsSockets('127.0.0.1', 0);
    port = sockets.port;
    transport = serveDns({
      ...sockets,
      // 127.0.0.1 is the client pod; any other source is unknown
      handle: (message, context) =>
        proxy.handle(message, {
          ...context,
          client: async () => (context.remote.address === '127.0.0.1' ? client : undefined),
        }),
    });
  });
  afterAll(async () => {
    await transport?.close();
    proxy?.forwarder.close();
    await upstream?.close();
  });

  it.each([['udp'], ['tcp']])(
    '%s: a short Service name is answered locally: AA, RA, TTL 30, the upstream never asked',
    async (protocol) => {
      const asked = upstream.asked.length;
      const result = await dig('127.0.0.1', port, 'productpage', { tcp: protocol === 'tcp' });
      expect(result.status).toBe('NOERROR');
      expect(result.flags).toEqual(expect.arrayContaining(['qr', 'aa', 'rd', 'ra']));
      expect(result.answers).toEqual([{ name: 'productpage', ttl: 30, type: 'A', data: '9.9.9.9' }]);
      expect(upstream.asked.length).toBe(asked);
    },
  );

  it('search-domain form gets the CNAME then the A', async () => {
    const result = await dig('127.0.0.1', port, 'productpage.ns1.ns1.svc.cluster.local');
    expect(result.answers.map((a) => `${a.type} ${a.name} ${a.data}`)).toEqual([
      'CNAME productpage.ns1.ns1.svc.cluster.local productpage.ns1',
      'A productpage.ns1 9.9.9.9',
    ]);
  });

  it('a Service without an address of the family: empty NOERROR (authoritative), not NXDOMAIN', async () => {
    const result = await dig('127.0.0.1', port, 'productpage.ns1.svc.cluster.local', { type: 'AAAA' });
    expect(result.status).toBe('NOERROR');
    expect(result.flags).toContain('aa');
    expect(result.answers).toEqual([]);
  });

  it.each([['udp'], ['tcp']])(
    '%s: other names are forwarded; answers come back not authoritative',
    async (protocol) => {
      const result = await dig('127.0.0.1', port, 'forwarded.example', { tcp: protocol === 'tcp' });
      expect(result.status).toBe('NOERROR');
      expect(result.flags).not.toContain('aa');
      expect(result.flags).toContain('ra');
      expect(result.answers).toEqual([{ name: 'forwarded.example', ttl: 60, type: 'A', data: '192.0.2.200' }]);
      const nx = await dig('127.0.0.1', port, 'nothing.example', { tcp: protocol === 'tcp' });
      expect(nx.status).toBe('NXDOMAIN');
    },
  );

  it('a mesh name in another class (CH) is not the mesh: forwarded', async () => {
    const before = upstream.asked.length;
    const result = await dig('127.0.0.1', port, 'productpage', { class: 'CH' });
    expect(result.flags).not.toContain('aa');
    expect(upstream.asked.slice(before)).toEqual(['productpage']);
  });

  it('non-address types of mesh names are forwarded too', async () => {
    const before = upstream.asked.length;
    const result = await dig('127.0.0.1', port, 'productpage.ns1.svc.cluster.local', { type: 'TXT' });
    expect(result.status).toBe('NXDOMAIN');
    expect(upstream.asked.slice(before)).toEqual(['productpage.ns1.svc.cluster.local']);
  });

  it('truncation: upstream TC over UDP → we retry over TCP; the client (512, no EDNS) gets TC and retries over TCP', async () => {
    const tcpBefore = upstream.received.tcp;
    const truncated = await dig('127.0.0.1', port, 'many.example', { bufsize: false, ignoreTruncation: true });
    expect(truncated.flags).toContain('tc');
    expect(truncated.answers.length).toBeGreaterThan(0);
    expect(truncated.answers.length).toBeLessThan(100);
    expect(upstream.received.tcp).toBeGreaterThan(tcpBefore);
    const retried = await dig('127.0.0.1', port, 'many.example', { bufsize: false });
    expect(retried.retriedTcp).toBe(true);
    expect(retried.answers).toHaveLength(100);
  });

  it("the client's EDNS size decides: 4096 gets all 100 records over UDP without TC", async () => {
    const result = await dig('127.0.0.1', port, 'many.example', { bufsize: 4096, ignoreTruncation: true });
    expect(result.flags).not.toContain('tc');
    expect(result.answers).toHaveLength(100);
  });

  it('an EDNS size below 512 is treated as 512', async () => {
    const result = await dig('127.0.0.1', port, 'many.example', { bufsize: 100, ignoreTruncation: true });
    expect(result.flags).toContain('tc');
    // 512 bytes hold more than a 100-byte size would (2 records; dns-packet does not compress names)
    expect(result.answers.length).toBeGreaterThan(10);
  });

  it('a ~60 KiB answer arrives whole over TCP', async () => {
    const result = await dig('127.0.0.1', port, 'huge.example', { type: 'TXT', tcp: true });
    expect(result.status).toBe('NOERROR');
    expect(result.answers).toHaveLength(240);
  });

  it('an upstream that never answers: SERVFAIL after the timeout, counted as an upstream failure', async () => {
    const result = await dig('127.0.0.1', port, 'silent.example');
    expect(result.status).toBe('SERVFAIL');
    const failure = events.find((event) => event.kind === 'query' && event.question.name === 'silent.example');
    expect(failure).toMatchObject({ outcome: 'forward failed', upstream: { error: 'DNS_UPSTREAM_TIMEOUT' } });
  });

  it('an unknown client gets SERVFAIL and nothing is forwarded', async () => {
    const before = upstream.asked.length;
    const result = await dig('127.0.0.1', port, 'forwarded.example', { source: '127.0.0.2' });
    expect(result.status).toBe('SERVFAIL');
    expect(upstream.asked.length).toBe(before);
  });

  it('a non-QUERY opcode gets NOTIMP; a malformed packet FORMERR; a response sent to us is dropped; others keep being served', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const replies: Buffer[] = [];
    socket.on('message', (message) => replies.push(message));
    const send = (bytes: Buffer) =>
      new Promise<void>((resolve) => socket.send(bytes, port, '127.0.0.1', () => resolve()));
    const notify = encodeQuery('productpage', 'A', 0x1111);
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode NOTIFY
    await send(notify);
    const garbage = Buffer.concat([encodeQuery('x', 'A', 0x2222).subarray(0, 12), Buffer.from([0x3f, 1, 2])]);
    await send(garbage);
    const response = encodeQuery('productpage', 'A', 0x3333);
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
    await send(response);
    await send(Buffer.from([1, 2, 3]));
    // oversized: 9000 bytes after a header whose question does not parse
    const oversized = Buffer.alloc(9000, 0xc0);
    encodeQuery('x', 'A', 0x7777).copy(oversized, 0, 0, 12);
    await send(oversized);
    await send(encodeQuery('productpage', 'A', 0x4444));
    await expect.poll(() => replies.length).toBe(4);
    socket.close();
    const byId = new Map(replies.map((reply) => [reply.readUInt16BE(0), reply.readUInt16BE(2) & 0xf]));
    expect(byId).toEqual(
      new Map([
        [0x1111, 4], // NOTIMP
        [0x2222, 1], // FORMERR
        [0x7777, 1], // FORMERR for the oversized one
        [0x4444, 0], // the good query after them
      ]),
    );
    const reasons = events.flatMap((event) => (event.kind === 'rejected' ? [event.reason] : []));
    expect(reasons).toEqual(expect.arrayContaining(['opcode', 'malformed', 'response', 'too short']));
  });

  it('a 64 KiB TCP message is read whole and answered FORMERR (64 KiB of questions that do not parse); the connection serves the next query', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    const body = Buffer.alloc(65_535, 0xff);
    encodeQuery('x', 'A', 0x5555).copy(body, 0, 0, 12);
    body.writeUInt16BE(1, 4);
    const good = encodeQuery('productpage', 'A', 0x6666);
    const frame = (message: Buffer) =>
      Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
    socket.write(Buffer.concat([frame(body), frame(good)]));
    const answers: number[][] = [];
    let buffered = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
          answers.push([message.readUInt16BE(0), message.readUInt16BE(2) & 0xf]);
          buffered = buffered.subarray(2 + message.length);
        }
        if (answers.length === 2) resolve();
      });
    });
    socket.destroy();
    expect(answers).toEqual([
      [0x5555, 1],
      [0x6666, 0],
    ]);
  });

  it.skipIf(!hasDnspython)(
    `dnspython agrees: a local answer over UDP, the ~60 KiB answer over TCP${hasDnspython ? '' : ' (skipped: needs python3-dnspython)'}`,
    async () => {
      const script = [
        'import sys, dns.message, dns.query, dns.flags',
        'port = int(sys.argv[1])',
        "r = dns.query.udp(dns.message.make_query('productpage.ns1', 'A'), '127.0.0.1', port=port, timeout=3)",
        'print(dns.rcode.to_text(r.rcode()), bool(r.flags & dns.flags.AA), [rr.to_text() for rrset in r.answer for rr in rrset], r.answer[0].ttl)',
        "r = dns.query.tcp(dns.message.make_query('huge.example', 'TXT'), '127.0.0.1', port=port, timeout=3)",
        'print(len(r.answer[0]))',
      ].join('\n');
      // async: the proxy answers from this process's event loop
      const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, String(port)], {
        encoding: 'utf8',
      });
      const out = stdout.trim().split('\n');
      expect(out).toEqual(["NOERROR True ['9.9.9.9'] 30", '240']);
    },
  );

  it('forwarding tries the next upstream when one does not answer, and says which answered', async () => {
    const mute = await startTestUpstream({ records: {}, silent: ['forwarded.example'] });
    const forwarder = new Forwarder({
      upstreams: [
        { host: mute.host, port: mute.port },
        { host: upstream.host, port: upstream.port },
      ],
      timeoutMs: 200,
      attempts: 1,
    });
    try {
      const message = encodeQuery('forwarded.example', 'A', 1);
      const incoming = decodeIncoming(message, 'udp');
      if (incoming.kind !== 'query') throw new Error('not a query');
      const answer = await forwarder.forward(message, incoming.query);
      expect(answer.upstream).toEqual({ host: upstream.host, port: upstream.port });
      expect(mute.asked).toEqual(['forwarded.example']);
      expect(addressesOf(answer.response, 'A').addresses).toEqual(['192.0.2.200']);
    } finally {
      forwarder.close();
      await mute.close();
    }
  });
});
