import { describe, expect, it } from 'vitest';
import { parseCidr } from '@ambient-ts/addresses';
import { toBase64 } from './base64.ts';
import { IpAllocator, parseIp } from './ip-allocator.ts';

describe('parseIp', () => {
  it('gives the 4 raw bytes of an IPv4 literal and their base64', () => {
    const ip = parseIp('127.0.1.2')!;
    expect([...ip.bytes]).toEqual([127, 0, 1, 2]);
    expect(toBase64(ip.bytes)).toBe('fwABAg==');
    expect(ip.family).toBe(4);
  });

  it('gives 16 bytes for IPv6, including :: and embedded IPv4', () => {
    expect([...parseIp('::1')!.bytes]).toEqual([...new Array<number>(15).fill(0), 1]);
    expect([...parseIp('fd00::a:1')!.bytes]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1]);
    expect([...parseIp('::ffff:10.0.0.7')!.bytes].slice(10)).toEqual([0xff, 0xff, 10, 0, 0, 7]);
    expect(parseIp('2001:db8:0:0:0:0:0:1')!.text).toBe('2001:db8::1');
  });

  it('refuses what is not an address', () => {
    for (const text of ['', '127.0.1', '256.0.0.1', '1.2.3.4/32', 'fe80::1%eth0', 'localhost', '1:2:3:4:5:6:7:8:9']) {
      expect(parseIp(text), text).toBeUndefined();
    }
  });
});

describe('IpAllocator', () => {
  it('hands out the lowest free host addresses of a range, skipping used ones and the network address', () => {
    const used = new Set(['127.10.255.1']);
    const alloc = new IpAllocator(parseCidr('127.10.255.0/30')!, used);
    expect(alloc.take()?.text).toBe('127.10.255.2');
    expect(alloc.take()?.text).toBe('127.10.255.3');
    expect(alloc.take()).toBeUndefined();
    expect(used.has('127.10.255.2')).toBe(true);
  });

  it('allocates IPv6 too, keyed by the canonical text', () => {
    const alloc = new IpAllocator(parseCidr('fd00::/126')!, new Set(['fd00::1']));
    expect(alloc.take()?.text).toBe('fd00::2');
  });

  it('refuses malformed ranges', () => {
    expect(parseCidr('127.0.0.0/33')).toBeUndefined();
    expect(parseCidr('nope/8')).toBeUndefined();
    expect(parseCidr('127.0.0.0/')).toBeUndefined();
  });
});
