// @ambient-ts/addresses — IP addresses, CIDR blocks, socket addresses and HBONE CONNECT authorities.
export {
  parseIp,
  parseConnectionIp,
  unmapIp,
  formatIp,
  ipFromBytes,
  ipToBytes,
  canonicalIp,
  ipFamily,
  normalizeAddress,
  isLoopback,
  networkAddressKey,
  type IpAddress,
  type IpFamily,
} from './ip.ts';
export { parseCidr, cidrContains, formatCidr, type Cidr } from './cidr.ts';
export {
  parseAuthority,
  formatAuthority,
  formatSocketAddress,
  formatHostPort,
  InvalidAuthorityError,
  type Authority,
  type SocketAddress,
} from './authority.ts';
