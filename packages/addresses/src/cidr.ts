// CIDR blocks: `10.0.0.0/8`, `2001:db8::/32`, or a bare address (= full-length prefix). Parsed as
// strictly as the addresses (no leading zeros in the length either); containment by ipaddr.js.
import ipaddr from 'ipaddr.js';
import { formatIp, parseIp, type IpFamily } from './ip.ts';

/** An IP address or CIDR block; `bytes` keeps the address as written (host bits are masked when matching). */
export interface Cidr {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

const prefixLengthText = /^(0|[1-9][0-9]{0,2})$/;

/** Undefined when the address or the length is malformed, or the length exceeds 32 / 128. Host bits may be set. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  if (slash === -1) return { ...ip, prefixLength: bits };
  const lengthText = text.slice(slash + 1);
  if (!prefixLengthText.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  return prefixLength > bits ? undefined : { ...ip, prefixLength };
}

/** True when `ip` lies in `cidr`; an address of the other family never does (unmap connection addresses first). */
export function cidrContains(cidr: Cidr, ip: { readonly family: IpFamily; readonly bytes: Uint8Array }): boolean {
  if (cidr.family !== ip.family || cidr.bytes.length !== ip.bytes.length) return false;
  if (cidr.prefixLength < 0 || cidr.prefixLength > cidr.bytes.length * 8) return false;
  return ipaddr.fromByteArray([...ip.bytes]).match(ipaddr.fromByteArray([...cidr.bytes]), cidr.prefixLength);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefixLength}`;
}
