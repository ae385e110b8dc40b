// The CONNECT `:authority` forms HBONE uses: `ip:port`, `[v6]:port` (the original destination) and
// `host:port` (double HBONE carries a service hostname). The port is always mandatory.
import { isIPv4, isIPv6 } from 'node:net';
import { HboneError } from './errors.ts';

export type HboneAuthority =
  | { readonly kind: 'ip'; readonly address: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: 'host'; readonly host: string; readonly port: number };

/** A TCP endpoint; IPv6 addresses without brackets. */
export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

const hostPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

function bad(text: string, why: string): HboneError {
  return new HboneError(
    'INVALID_AUTHORITY',
    `invalid CONNECT authority ${JSON.stringify(text.slice(0, 300))}: ${why}; expected ip:port, [ipv6]:port or host:port`,
  );
}

function parsePort(text: string, digits: string): number {
  if (!/^[0-9]{1,5}$/.test(digits)) throw bad(text, `port "${digits}" is not a decimal number`);
  const port = Number(digits);
  if (port > 65535) throw bad(text, `port ${port} is out of range`);
  return port;
}

/** Parse a CONNECT authority. Throws `INVALID_AUTHORITY` (the server answers 400). */
export function parseAuthority(text: string): HboneAuthority {
  if (text.length === 0) throw bad(text, 'it is empty');
  if (text.length > 1024) throw bad(text, 'it is longer than 1024 characters');
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw bad(text, 'the IPv6 bracket is not closed');
    const address = text.slice(1, close);
    if (!isIPv6(address) || address.includes('%')) throw bad(text, `"${address}" is not an IPv6 address`);
    if (text[close + 1] !== ':') throw bad(text, 'the port is missing');
    return { kind: 'ip', address: address.toLowerCase(), port: parsePort(text, text.slice(close + 2)), family: 6 };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) throw bad(text, 'the port is missing');
  const host = text.slice(0, colon);
  const port = parsePort(text, text.slice(colon + 1));
  if (isIPv4(host)) return { kind: 'ip', address: host, port, family: 4 };
  if (host.includes(':')) throw bad(text, 'IPv6 addresses must be in brackets');
  if (host.length === 0) throw bad(text, 'the host is empty');
  if (host.length > 253 || !hostPattern.test(host)) throw bad(text, `"${host}" is not a valid host name`);
  return { kind: 'host', host: host.toLowerCase(), port };
}

/** `ip:port`, `[v6]:port` or `host:port`. */
export function formatAuthority(authority: HboneAuthority): string {
  return authority.kind === 'host'
    ? `${authority.host}:${authority.port}`
    : formatSocketAddress({ address: authority.address, port: authority.port });
}

/** `1.2.3.4:80` or `[::1]:80`. */
export function formatSocketAddress(address: SocketAddress): string {
  return isIPv6(address.address) ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/** `::ffff:10.0.0.1` (what a dual-stack socket reports) → `10.0.0.1`; other addresses unchanged. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}
