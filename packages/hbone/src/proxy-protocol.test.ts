import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HboneError } from './errors.ts';
import { decodeProxyHeader, encodeProxyHeader, PP2_TYPE_PEER_IDENTITY, PROXY_V2_SIGNATURE } from './proxy-protocol.ts';

const identity = 'spiffe://cluster.local/ns/default/sa/sleep';

function decodeError(bytes: Buffer): HboneError {
  try {
    decodeProxyHeader(bytes);
  } catch (error) {
    return error as HboneError;
  }
  throw new Error('expected a decode error');
}

describe('PROXY protocol v2', () => {
  it('encodes the exact bytes ztunnel writes for IPv4 with TLV 0xD0', () => {
    const bytes = encodeProxyHeader({
      source: { address: '10.0.0.1', port: 43210 },
      destination: { address: '10.0.0.2', port: 15088 },
      peerIdentity: identity,
    });
    const tlv = Buffer.concat([Buffer.from([0xd0, 0x00, identity.length]), Buffer.from(identity)]);
    const expected = Buffer.concat([
      PROXY_V2_SIGNATURE,
      Buffer.from([0x21, 0x11, 0x00, 12 + tlv.length]),
      Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0xa8, 0xca, 0x3a, 0xf0]),
      tlv,
    ]);
    expect(bytes.equals(expected)).toBe(true);
    expect(decodeProxyHeader(Buffer.concat([bytes, Buffer.from('GET /')]))).toEqual({
      kind: 'header',
      length: bytes.length,
      header: {
        command: 'proxy',
        family: 4,
        source: { address: '10.0.0.1', port: 43210 },
        destination: { address: '10.0.0.2', port: 15088 },
        peerIdentity: identity,
        tlvs: [{ type: PP2_TYPE_PEER_IDENTITY, value: Buffer.from(identity) }],
      },
    });
  });

  it('round-trips IPv4, IPv6 and mixed families (mixed becomes v4-mapped IPv6)', () => {
    const addr = fc.oneof(fc.ipV4(), fc.ipV6());
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(
      fc.property(
        addr,
        port,
        addr,
        port,
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        (sa, sp, da, dp, id) => {
          const bytes = encodeProxyHeader({
            source: { address: sa, port: sp },
            destination: { address: da, port: dp },
            peerIdentity: id,
          });
          const result = decodeProxyHeader(bytes);
          expect(result.kind).toBe('header');
          if (result.kind !== 'header' || result.header.family === 'unspec') throw new Error('unexpected');
          expect(result.length).toBe(bytes.length);
          expect(result.header.source.port).toBe(sp);
          expect(result.header.destination.port).toBe(dp);
          expect(result.header.peerIdentity).toBe(id);
          const same = sa.includes(':') === da.includes(':');
          if (same && !sa.includes(':')) expect(result.header.source.address).toBe(sa);
          if (!same) expect(result.header.family).toBe(6);
        },
      ),
    );
  });

  it('asks for more bytes until the whole header is there', () => {
    const bytes = encodeProxyHeader({ source: { address: '::1', port: 1 }, destination: { address: '::2', port: 2 } });
    for (let cut = 0; cut < bytes.length; cut++) {
      const result = decodeProxyHeader(bytes.subarray(0, cut));
      expect(result.kind).toBe('incomplete');
      if (result.kind === 'incomplete') expect(result.needed).toBeGreaterThan(cut);
    }
    expect(decodeProxyHeader(bytes).kind).toBe('header');
  });

  it('decodes LOCAL and UNSPEC headers without addresses', () => {
    const local = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    expect(decodeProxyHeader(local)).toEqual({
      kind: 'header',
      length: 16,
      header: { command: 'local', family: 'unspec', tlvs: [] },
    });
  });

  it('rejects malformed headers with strict length checks', () => {
    const good = encodeProxyHeader({
      source: { address: '1.1.1.1', port: 1 },
      destination: { address: '2.2.2.2', port: 2 },
      peerIdentity: 'id',
    });
    const mutate = (at: number, value: number): Buffer => {
      const copy = Buffer.from(good);
      copy[at] = value;
      return copy;
    };
    const cases: [string, Buffer, RegExp][] = [
      ['signature', Buffer.from('PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\n'), /signature/],
      ['version 1', mutate(12, 0x11), /version 1/],
      ['command 2', mutate(12, 0x22), /command/],
      ['UDP', mutate(13, 0x12), /family\/transport/],
      [
        'length shorter than IPv4 addresses',
        Buffer.concat([good.subarray(0, 14), Buffer.from([0, 8]), good.subarray(16, 24)]),
        /need 12/,
      ],
      ['TLV longer than the header', mutate(16 + 12 + 2, 0xff), /claims 255 bytes/],
      [
        'dangling TLV bytes',
        Buffer.concat([good.subarray(0, 15), Buffer.from([good[15]! + 2]), good.subarray(16), Buffer.from([0xd0, 0])]),
        /too short for a TLV/,
      ],
      [
        'TLV 0xD0 not UTF-8',
        encodeProxyHeader({
          source: { address: '1.1.1.1', port: 1 },
          destination: { address: '2.2.2.2', port: 2 },
          tlvs: [{ type: 0xd0, value: Buffer.from([0xff, 0xfe]) }],
        }),
        /UTF-8/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const error = decodeError(bytes);
      expect(error.code, name).toBe('PROXY_V2_INVALID');
      expect(error.message, name).toMatch(message);
    }
  });

  it('bounds what a peer can make us buffer', () => {
    const big = encodeProxyHeader({
      source: { address: '1.1.1.1', port: 1 },
      destination: { address: '2.2.2.2', port: 2 },
      tlvs: [{ type: 0xe0, value: Buffer.alloc(5000) }],
    });
    expect(decodeError(big.subarray(0, 16)).message).toMatch(/more than the 4096 allowed/);
    expect(decodeProxyHeader(big, { maxLength: 8192 }).kind).toBe('header');
  });

  it('refuses to encode what cannot be represented', () => {
    expect(() =>
      encodeProxyHeader({ source: { address: 'host', port: 1 }, destination: { address: '2.2.2.2', port: 2 } }),
    ).toThrow(/not an IP address/);
    expect(() =>
      encodeProxyHeader({ source: { address: '1.1.1.1', port: 70000 }, destination: { address: '2.2.2.2', port: 2 } }),
    ).toThrow(/out of range/);
  });
});
