// Addresses as the translation keeps them (bytes for the protos, canonical text as the uniqueness key) and a
// deterministic allocator for addresses the input leaves to us (waypoint pods and VIPs). Parsing is
// @ambient-ts/addresses'.
import { formatIp, parseIp as parseAddress, type Cidr, type IpAddress } from '@ambient-ts/addresses';

export interface ParsedIp extends IpAddress {
  /** Canonical text (dotted quad, RFC 5952 for IPv6), used as the uniqueness key. */
  readonly text: string;
}

/** Parse an IPv4/IPv6 literal (no zone, no prefix); undefined when it is not one. */
export function parseIp(text: string): ParsedIp | undefined {
  const ip = parseAddress(text);
  return ip && { ...ip, text: formatIp(ip) };
}

function bytesToBig(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigToIp(n: bigint, family: 4 | 6): ParsedIp {
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  let rest = n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return { family, bytes, text: formatIp({ family, bytes }) };
}

/**
 * Hands out the lowest free host address of a range, skipping the network address and anything already
 * used. Deterministic, so the same input always gets the same addresses.
 */
export class IpAllocator {
  private readonly used: Set<string>;
  private readonly end: bigint;
  private next: bigint;
  private readonly family: 4 | 6;

  constructor(range: Cidr, used: Set<string>) {
    this.used = used;
    this.family = range.family;
    const bits = BigInt(range.bytes.length * 8);
    const hostBits = bits - BigInt(range.prefixLength);
    const network = (bytesToBig(range.bytes) >> hostBits) << hostBits;
    this.next = hostBits === 0n ? network : network + 1n;
    this.end = network + (1n << hostBits) - 1n;
  }

  /** The next free address, or undefined when the range is exhausted. */
  take(): ParsedIp | undefined {
    while (this.next <= this.end) {
      const ip = bigToIp(this.next, this.family);
      this.next += 1n;
      if (!this.used.has(ip.text)) {
        this.used.add(ip.text);
        return ip;
      }
    }
    return undefined;
  }
}
