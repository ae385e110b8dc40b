// IP address helpers: raw bytes <-> text, families, CIDR containment. Pure, no DNS.
import { isIP, isIPv4 } from 'node:net';

export type IpFamily = 4 | 6;

/** Text form of 4 or 16 raw bytes; undefined for any other length. IPv6 is compressed (RFC 5952). */
export function ipFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // longest run of zero groups (length >= 2) becomes '::'
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Raw bytes of an IP literal (4 or 16), or undefined when the text is not an IP. */
export function ipToBytes(ip: string): Uint8Array | undefined {
  const family = isIP(ip);
  if (family === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (family !== 6) return undefined;
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (isIPv4(last)) {
    // embedded IPv4 (::ffff:1.2.3.4): rewrite as two hex groups
    const v4 = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const h = parse(head);
  const r = parse(rest);
  const missing = 8 - h.length - r.length;
  const groups = rest === undefined ? h : [...h, ...new Array<number>(Math.max(missing, 0)).fill(0), ...r];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Canonical text of an IP literal (so `::ffff:0:1` and `0::ffff:0:1` index the same), or undefined. */
export function canonicalIp(ip: string): string | undefined {
  if (isIPv4(ip)) return ip; // dotted quads are already canonical (node rejects leading zeros)
  const bytes = ipToBytes(ip);
  return bytes === undefined ? undefined : ipFromBytes(bytes);
}

export function ipFamily(ip: string): IpFamily | undefined {
  const family = isIP(ip);
  return family === 4 || family === 6 ? family : undefined;
}

/** True when `ip` lies in `prefix`/`length` (same family only). */
export function cidrContains(prefix: Uint8Array, length: number, ip: Uint8Array): boolean {
  if (prefix.length !== ip.length || length > prefix.length * 8 || length < 0) return false;
  let bits = length;
  for (let i = 0; i < prefix.length && bits > 0; i++) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((prefix[i]! & mask) !== (ip[i]! & mask)) return false;
    bits -= 8;
  }
  return true;
}

export function base64ToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** `network/ip` — the key ztunnel uses for addresses (leading `/` on the default network). */
export function networkAddressKey(network: string, ip: string): string {
  return `${network}/${ip}`;
}
