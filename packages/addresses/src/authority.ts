// Socket addresses and the CONNECT `:authority` forms HBONE uses: `ip:port`, `[v6]:port` (the original
// destination) and `host:port` (double HBONE carries a service hostname). The port is always mandatory.
import { isIPv4, isIPv6 } from 'node:net';

export type Authority =
  | { readonly kind: 'ip'; readonly address: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: 'host'; readonly host: string; readonly port: number };

/** A TCP endpoint; IPv6 addresses without brackets. */
export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/** What `parseAuthority` throws; the message says what is wrong and what was expected. */
export class InvalidAuthorityError extends Error {
  override readonly name = 'InvalidAuthorityError';
  readonly code = 'INVALID_AUTHORITY';

  /** True for this error from any copy of the package (duplicate installs). */
  static isInvalidAuthorityError(error: unknown): error is InvalidAuthorityError {
    return (
      error instanceof Error &&
      error.name === 'InvalidAuthorityError' &&
      (error as { code?: unknown }).code === 'INVALID_AUTHORITY'
    );
  }
}

const hostPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

function bad(text: string, why: string): InvalidAuthorityError {
  return new InvalidAuthorityError(
    `invalid CONNECT authority ${JSON.stringify(text.slice(0, 300))}: ${why}; expected ip:port, [ipv6]:port or host:port`,
  );
}

function parsePort(text: string, digits: string): number {
  if (!/^[0-9]{1,5}$/.test(digits)) throw bad(text, `port "${digits}" is not a decimal number`);
  const port = Number(digits);
  if (port > 65535) throw bad(text, `port ${port} is out of range`);
  return port;
}

/**
 * Parse a CONNECT authority. IPv6 must be bracketed and carries no zone; host names are lower-cased.
 * Throws `InvalidAuthorityError` (an HBONE server answers 400 with its message).
 */
export function parseAuthority(text: string): Authority {
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

/** `1.2.3.4:80`, `[::1]:80` or `name:80`: anything with a colon (an IPv6 address) is bracketed. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `1.2.3.4:80` or `[::1]:80`. */
export function formatSocketAddress(address: SocketAddress): string {
  return formatHostPort(address.address, address.port);
}

/** `ip:port`, `[v6]:port` or `host:port` — what `parseAuthority` reads back. */
export function formatAuthority(authority: Authority): string {
  return formatHostPort(authority.kind === 'host' ? authority.host : authority.address, authority.port);
}
