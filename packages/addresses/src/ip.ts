// IP addresses (IPv4 and IPv6) as text and as the raw bytes Istio's protos carry. Validation is Node's
// `isIP` (strict like Go's net/netip: dotted quads without leading zeros, 1–4 hex digits per group);
// the bytes and the RFC 5952 text come from ipaddr.js. Pure, no DNS.
import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

function fromText(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family !== 4 && family !== 6) return undefined;
  return { family, bytes: Uint8Array.from(ipaddr.parse(text).toByteArray()) };
}

/**
 * Parse an address exactly as written: no zone (`%eth0`), no brackets, no prefix, no spaces; an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) stays IPv6. Undefined when the text is not an address.
 */
export function parseIp(text: string): IpAddress | undefined {
  return text.includes('%') ? undefined : fromText(text);
}

/** `::ffff:10.0.0.1` (16 bytes) → `10.0.0.1` (4 bytes); any other address unchanged. */
export function unmapIp(ip: IpAddress): IpAddress {
  if (ip.family === 4) return ip;
  const address = ipaddr.fromByteArray([...ip.bytes]) as ipaddr.IPv6;
  return address.isIPv4MappedAddress() ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

/** Parse the address of a connection: IPv4-mapped IPv6 (as a dual-stack socket reports IPv4 peers) becomes IPv4. */
export function parseConnectionIp(text: string): IpAddress | undefined {
  const ip = parseIp(text);
  return ip && unmapIp(ip);
}

/** Dotted quad, or RFC 5952 text for IPv6 (lower case, longest run of ≥ 2 zero groups as `::`). */
export function formatIp(ip: IpAddress): string {
  const address = ipaddr.fromByteArray([...ip.bytes]);
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/** Text form of 4 or 16 raw bytes; undefined for any other length. */
export function ipFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return formatIp({ family: 4, bytes });
  if (bytes.length === 16) return formatIp({ family: 6, bytes });
  return undefined;
}

/** Raw bytes of an IP literal (4 or 16; a zone id is ignored), or undefined when the text is not an IP. */
export function ipToBytes(text: string): Uint8Array | undefined {
  return fromText(text)?.bytes;
}

/** Canonical text of an IP literal (so `::ffff:0:1` and `0::ffff:0:1` index the same; a zone id is dropped), or undefined. */
export function canonicalIp(text: string): string | undefined {
  const ip = fromText(text);
  return ip && formatIp(ip);
}

export function ipFamily(text: string): IpFamily | undefined {
  const family = isIP(text);
  return family === 4 || family === 6 ? family : undefined;
}

/** `::ffff:10.0.0.1` (what a dual-stack socket reports) → `10.0.0.1`; any other text unchanged. */
export function normalizeAddress(text: string): string {
  const ip = parseIp(text);
  return ip?.family === 6 && unmapIp(ip).family === 4 ? formatIp(unmapIp(ip)) : text;
}

/** 127.0.0.0/8, `::1`, or an IPv4-mapped 127.x address. */
export function isLoopback(text: string): boolean {
  const ip = parseConnectionIp(text.split('%')[0]!);
  if (ip === undefined) return false;
  return ipaddr.fromByteArray([...ip.bytes]).range() === 'loopback';
}

/** `network/ip` — the key ztunnel uses for addresses (leading `/` on the default network). */
export function networkAddressKey(network: string, ip: string): string {
  return `${network}/${ip}`;
}
