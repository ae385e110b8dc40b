import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseResolvConf } from './resolv-conf.ts';
import { decodeIncoming, encodeQuery, encodeResponse, forwardedResponse, udpLimit } from './wire.ts';

const query = (name: string, type = 'A', udpPayloadSize?: number) => {
  const incoming = decodeIncoming(encodeQuery(name, type, 7, udpPayloadSize ? { udpPayloadSize } : {}), 'udp');
  if (incoming.kind !== 'query') throw new Error('not a query');
  return incoming.query;
};

describe('the wire edge', () => {
  it('converts a query into the model: name as asked, upper-case type, RD, EDNS size', () => {
    expect(query('Echo.Default', 'AAAA', 1232)).toEqual({
      id: 7,
      question: { name: 'Echo.Default', type: 'AAAA', class: 'IN' },
      recursionDesired: true,
      checkingDisabled: false,
      edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false },
    });
  });

  it.each([
    ['no EDNS', undefined, 512],
    ['EDNS 100', 100, 512],
    ['EDNS 4096', 4096, 4096],
  ])('UDP limit with %s is %i', (_name, size, limit) => {
    expect(udpLimit(query('a', 'A', size))).toBe(limit);
  });

  it.each([
    ['shorter than a header', Buffer.alloc(5), 'udp', { kind: 'drop', reason: 'too short' }],
    [
      'a response over UDP',
      (() => {
        const m = encodeQuery('a', 'A', 1);
        m[2]! |= 0x80;
        return m;
      })(),
      'udp',
      { kind: 'drop', reason: 'response' },
    ],
    [
      'a response over TCP',
      (() => {
        const m = encodeQuery('a', 'A', 1);
        m[2]! |= 0x80;
        return m;
      })(),
      'tcp',
      { kind: 'reject', rcode: 'FORMERR', reason: 'response' },
    ],
    [
      'opcode NOTIFY',
      (() => {
        const m = encodeQuery('a', 'A', 1);
        m[2]! |= 4 << 3;
        return m;
      })(),
      'udp',
      { kind: 'reject', rcode: 'NOTIMP', reason: 'opcode' },
    ],
    [
      'a cut question',
      encodeQuery('abc', 'A', 1).subarray(0, 14),
      'udp',
      { kind: 'reject', rcode: 'FORMERR', reason: 'malformed' },
    ],
    [
      'two questions',
      packet.encode({
        type: 'query',
        id: 1,
        questions: [
          { name: 'a', type: 'A' },
          { name: 'b', type: 'A' },
        ],
      }),
      'udp',
      { kind: 'reject', rcode: 'FORMERR', reason: 'question count' },
    ],
  ] as const)('%s', (_name, message, protocol, expected) => {
    expect(decodeIncoming(Buffer.from(message), protocol)).toMatchObject(expected);
  });

  it('an error response echoes the id, RD and the opcode, with no records', () => {
    const m = encodeQuery('a', 'A', 0x1234);
    m[2]! |= 4 << 3;
    const incoming = decodeIncoming(m, 'udp');
    expect(incoming.kind === 'reject' && packet.decode(incoming.response)).toMatchObject({
      id: 0x1234,
      type: 'response',
      opcode: 'NOTIFY',
      rcode: 'NOTIMP',
      flag_rd: true,
      answers: [],
    });
  });

  it('local answers: AA, RA, RD echoed, TTL, the EDNS record answered (at least 512)', () => {
    const q = query('echo', 'A', 100);
    const decoded = packet.decode(
      encodeResponse(q, [{ type: 'A', name: 'echo', address: '10.0.0.1', ttl: 30 }], {
        authoritative: true,
        limit: 512,
      }),
    );
    expect(decoded).toMatchObject({
      id: 7,
      flag_aa: true,
      flag_ra: true,
      flag_rd: true,
      flag_tc: false,
      rcode: 'NOERROR',
    });
    expect(decoded.answers).toEqual([
      { name: 'echo', type: 'A', ttl: 30, class: 'IN', flush: false, data: '10.0.0.1' },
    ]);
    expect(decoded.additionals?.[0]).toMatchObject({ type: 'OPT', udpPayloadSize: 512 });
  });

  it('over the limit: whole answers dropped from the end, TC set, the question kept', () => {
    const q = query('many');
    const records = Array.from({ length: 100 }, (_, i) => ({
      type: 'A' as const,
      name: 'many',
      address: `10.0.0.${i}`,
      ttl: 30,
    }));
    const bytes = encodeResponse(q, records, { authoritative: true, limit: 512 });
    expect(bytes.length).toBeLessThanOrEqual(512);
    const decoded = packet.decode(bytes);
    expect(decoded.flag_tc).toBe(true);
    expect(decoded.questions).toHaveLength(1);
    expect(decoded.answers!.length).toBeGreaterThan(10);
    expect(decoded.answers!.map((a) => (a as { data: unknown }).data)).toEqual(
      records.slice(0, decoded.answers!.length).map((r) => r.address),
    );
  });

  it("a forwarded answer gets the client's id, AA cleared, RA set; truncated to the client's limit", () => {
    const upstream = packet.encode({
      type: 'response',
      id: 999,
      flags: packet.AUTHORITATIVE_ANSWER,
      questions: [{ name: 'x.example', type: 'A' }],
      answers: Array.from({ length: 60 }, (_, i) => ({
        name: 'x.example',
        type: 'A' as const,
        ttl: 5,
        data: `192.0.2.${i}`,
      })),
    });
    const q = query('x.example');
    const whole = packet.decode(forwardedResponse(upstream, q, 65_535));
    expect(whole).toMatchObject({ id: 7, flag_aa: false, flag_ra: true, flag_tc: false });
    expect(whole.answers).toHaveLength(60);
    const cut = forwardedResponse(upstream, q, 512);
    expect(cut.length).toBeLessThanOrEqual(512);
    expect(packet.decode(cut)).toMatchObject({ id: 7, flag_tc: true });
  });
});

describe('resolv.conf', () => {
  it('nameservers (IP literals; a zone id is unusable, skipped), the last search line, options timeout and attempts', () => {
    expect(
      parseResolvConf(
        [
          '# comment',
          'nameserver 10.0.0.10',
          'nameserver fe80::1%eth0',
          'nameserver not-an-ip',
          'search a.example b.example',
          'search ns1.svc.cluster.local svc.cluster.local cluster.local',
          'options ndots:5 timeout:1 attempts:3',
        ].join('\n'),
      ),
    ).toEqual({
      nameservers: [{ host: '10.0.0.10', port: 53 }],
      search: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      timeoutMs: 1000,
      attempts: 3,
    });
  });
  it("glibc's defaults when empty", () => {
    expect(parseResolvConf('')).toEqual({ nameservers: [], search: [], timeoutMs: 5000, attempts: 2 });
  });
});
