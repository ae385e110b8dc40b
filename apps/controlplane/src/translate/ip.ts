// IP literals → the raw bytes Istio's protos carry (4 or 16), their base64 proto3-JSON form, CIDR ranges,
// and a deterministic allocator for addresses the input leaves to us (waypoint pods and VIPs).
import { isIP } from 'node:net';

export interface ParsedIp {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  /** Canonical text (what Node prints for the bytes), used as the uniqueness key. */
  readonly text: string;
}

function v6Groups(literal: string): number[] | undefined {
  let text = literal;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // embedded IPv4 (::ffff:1.2.3.4) becomes two hex groups
    if (isIP(last) !== 4) return undefined;
    const o = last.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const known = head.length + rest.length;
  if (known > 7) return undefined;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
}

/** Parse an IPv4/IPv6 literal (no zone, no prefix); undefined when it is not one. */
export function parseIp(text: string): ParsedIp | undefined {
  const family = isIP(text);
  if (family === 4) {
    const bytes = Uint8Array.from(text.split('.').map(Number));
    return { family: 4, bytes, text: bytes.join('.') };
  }
  if (family !== 6 || text.includes('%')) return undefined;
  const groups = v6Groups(text);
  if (groups === undefined || groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return { family: 6, bytes, text: groups.map((g) => g.toString(16)).join(':') };
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export interface Cidr {
  readonly base: ParsedIp;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = ip.bytes.length * 8;
  const prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  return { base: ip, prefix };
}

function bytesToBig(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigToIp(n: bigint, family: 4 | 6): ParsedIp {
  const len = family === 4 ? 4 : 16;
  const bytes = new Uint8Array(len);
  let rest = n;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  const text =
    family === 4
      ? bytes.join('.')
      : Array.from({ length: 8 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16)).join(':');
  return { family, bytes, text };
}

/**
 * Hands out the lowest free host address of a range, skipping the network address and anything already
 * used. Deterministic, so the same input always gets the same addresses.
 */
export class IpAllocator {
  private readonly used: Set<string>;
  private readonly start: bigint;
  private readonly end: bigint;
  private next: bigint;
  private readonly family: 4 | 6;

  constructor(range: Cidr, used: Set<string>) {
    this.used = used;
    this.family = range.base.family;
    const bits = BigInt(range.base.bytes.length * 8);
    const hostBits = bits - BigInt(range.prefix);
    const network = (bytesToBig(range.base.bytes) >> hostBits) << hostBits;
    this.start = hostBits === 0n ? network : network + 1n;
    this.end = network + (1n << hostBits) - 1n;
    this.next = this.start;
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
