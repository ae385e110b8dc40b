import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  cidrContains,
  formatCidr,
  formatIp,
  ipFamily,
  ipFromBytes,
  ipToBytes,
  isLoopback,
  networkAddressKey,
  normalizeAddress,
  parseCidr,
  parseConnectionIp,
  parseIp,
} from './index.ts';

describe('IP parsing', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::1', '::1'],
    ['2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
    ['fe80::', 'fe80::'],
  ])('parses %s', (text, formatted) => {
    expect(formatIp(parseIp(text)!)).toBe(formatted);
  });

  it.each([
    '',
    '10.0.0',
    '10.0.0.256',
    '010.0.0.1',
    '1.2.3.4.5',
    '::1::2',
    '12345::',
    'fe80::1%eth0',
    'a.b.c.d',
    ' 10.0.0.1',
    '1.2.3.4/32',
    '[::1]',
    'localhost',
    '1:2:3:4:5:6:7:8:9',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('reads IPv4-mapped connection addresses as IPv4 (as Node reports dual-stack peers)', () => {
    expect(parseConnectionIp('::ffff:10.1.2.3')).toEqual({ family: 4, bytes: new Uint8Array([10, 1, 2, 3]) });
    expect(parseConnectionIp('::1')!.family).toBe(6);
  });
});

describe('CIDR', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.1.2.3', '10.1.2.3', true],
    ['10.1.2.3', '10.1.2.4', false],
    ['10.1.2.3/8', '10.9.9.9', true], // host bits are ignored, like Envoy's CidrRange
    ['0.0.0.0/0', '192.168.1.1', true],
    ['192.168.0.0/23', '192.168.1.200', true],
    ['192.168.0.0/23', '192.168.2.1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['::/0', '::1', true],
    ['10.0.0.0/8', '::ffff:10.0.0.1', false],
  ])('%s contains %s: %s', (cidr, ip, expected) => {
    expect(cidrContains(parseCidr(cidr)!, parseIp(ip)!)).toBe(expected);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '::/129', '10.0.0.0/08', 'x/8'])('rejects %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it('formats', () => {
    expect(formatCidr(parseCidr('10.0.0.0/8')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('2001:db8::1')!)).toBe('2001:db8::1/128');
  });
});

describe('bytes and canonical text', () => {
  it('gives the 4 raw bytes of an IPv4 literal and 16 for IPv6, including :: and embedded IPv4', () => {
    expect([...ipToBytes('127.0.1.2')!]).toEqual([127, 0, 1, 2]);
    expect([...ipToBytes('::1')!]).toEqual([...new Array<number>(15).fill(0), 1]);
    expect([...ipToBytes('fd00::a:1')!]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1]);
    expect([...ipToBytes('::ffff:10.0.0.7')!].slice(10)).toEqual([0xff, 0xff, 10, 0, 0, 7]);
    expect(ipToBytes('localhost')).toBeUndefined();
  });

  it('formats bytes back, RFC 5952, and refuses other lengths', () => {
    expect(ipFromBytes(new Uint8Array([10, 0, 0, 1]))).toBe('10.0.0.1');
    expect(ipFromBytes(ipToBytes('2001:0db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(ipFromBytes(ipToBytes('1:0:2:3:4:5:6:7')!)).toBe('1:0:2:3:4:5:6:7'); // one zero group stays
    expect(ipFromBytes(new Uint8Array(5))).toBeUndefined();
  });

  it('canonicalises IPv6 spellings and drops a zone (the lookup key)', () => {
    expect(canonicalIp('0::FFFF:0:1')).toBe(canonicalIp('::ffff:0:1'));
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('010.0.0.1')).toBeUndefined();
    expect(ipFamily('::1')).toBe(6);
    expect(ipFamily('10.0.0.1')).toBe(4);
    expect(ipFamily('x')).toBeUndefined();
  });

  it('round-trips every address through bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = parseIp(text)!;
        expect(ip.bytes.length).toBe(ip.family === 4 ? 4 : 16);
        expect(parseIp(formatIp(ip))).toEqual(ip);
        expect(canonicalIp(text)).toBe(formatIp(ip));
      }),
    );
  });
});

describe('socket address normalisation', () => {
  it('unmaps IPv4-mapped IPv6 addresses only', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('not an ip')).toBe('not an ip');
  });

  it('knows loopback addresses', () => {
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) expect(isLoopback(ip), ip).toBe(true);
    for (const ip of ['10.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost']) expect(isLoopback(ip), ip).toBe(false);
  });

  it('keys addresses by network', () => {
    expect(networkAddressKey('', '10.0.0.1')).toBe('/10.0.0.1');
    expect(networkAddressKey('net1', '::1')).toBe('net1/::1');
  });
});
