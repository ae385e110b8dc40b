// PROXY protocol v2 (haproxy proxy-protocol.txt §2.2), as ztunnel writes it in front of application
// tunnels: command PROXY, transport STREAM, and TLV 0xD0 carrying the source SPIFFE identity.
import { isIPv4, isIPv6, SocketAddress as NetSocketAddress } from 'node:net';
import { ipFromBytes, ipToBytes, type SocketAddress } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';

export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Istio's TLV: the peer's SPIFFE identity (UTF-8). */
export const PP2_TYPE_PEER_IDENTITY = 0xd0;
/** Documented by Istio (service hostname) but never written by ztunnel. */
export const PP2_TYPE_SERVICE_HOSTNAME = 0xd1;

const headerFixedLength = 16;
const addressLengths = { 0x11: 12, 0x21: 36 } as const;

export interface ProxyTlv {
  type: number;
  value: Buffer;
}

export type ProxyHeader =
  | {
      command: 'proxy';
      family: 4 | 6;
      source: SocketAddress;
      destination: SocketAddress;
      /** TLV 0xD0 when present. */
      peerIdentity?: string;
      tlvs: ProxyTlv[];
    }
  /** LOCAL (health checks) or PROXY with an unspecified family: no addresses. */
  | { command: 'local' | 'proxy'; family: 'unspec'; tlvs: ProxyTlv[] };

export interface EncodeProxyOptions {
  source: SocketAddress;
  destination: SocketAddress;
  /** Written as TLV 0xD0. */
  peerIdentity?: string;
  tlvs?: ProxyTlv[];
}

function invalid(message: string): HboneError {
  return new HboneError('PROXY_V2_INVALID', `PROXY v2 header: ${message}`);
}

function ipBytes(address: string): Buffer {
  return Buffer.from(ipToBytes(address)!);
}

function familyOf(address: string, role: string): 4 | 6 {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw invalid(`${role} address "${address}" is not an IP address`);
}

function checkPort(port: number, role: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`${role} port ${port} is out of range`);
}

/** Build a PROXY v2 header (PROXY command, TCP). Mixed families are sent as IPv6 (v4-mapped). */
export function encodeProxyHeader(options: EncodeProxyOptions): Buffer {
  const { source, destination } = options;
  checkPort(source.port, 'source');
  checkPort(destination.port, 'destination');
  const srcFamily = familyOf(source.address, 'source');
  const dstFamily = familyOf(destination.address, 'destination');
  const family = srcFamily === dstFamily ? srcFamily : 6;
  // Mixed families go as IPv6, the IPv4 side v4-mapped.
  const src = family === 6 && srcFamily === 4 ? `::ffff:${source.address}` : source.address;
  const dst = family === 6 && dstFamily === 4 ? `::ffff:${destination.address}` : destination.address;
  const tlvs = [...(options.tlvs ?? [])];
  if (options.peerIdentity !== undefined) {
    tlvs.push({ type: PP2_TYPE_PEER_IDENTITY, value: Buffer.from(options.peerIdentity, 'utf8') });
  }
  const tlvBytes = tlvs.map((tlv) => {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 255) throw invalid(`TLV type ${tlv.type}`);
    if (tlv.value.length > 0xffff) throw invalid(`TLV 0x${tlv.type.toString(16)} is longer than 65535 bytes`);
    const head = Buffer.alloc(3);
    head.writeUInt8(tlv.type, 0);
    head.writeUInt16BE(tlv.value.length, 1);
    return Buffer.concat([head, tlv.value]);
  });
  const addresses = Buffer.concat([
    ipBytes(src),
    ipBytes(dst),
    Buffer.from([source.port >> 8, source.port & 0xff, destination.port >> 8, destination.port & 0xff]),
  ]);
  const body = Buffer.concat([addresses, ...tlvBytes]);
  if (body.length > 0xffff) throw invalid(`the header body would be ${body.length} bytes, over 65535`);
  const fixed = Buffer.alloc(4);
  fixed.writeUInt8(0x21, 0); // version 2, command PROXY
  fixed.writeUInt8(family === 4 ? 0x11 : 0x21, 1); // AF_INET/AF_INET6, STREAM
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, fixed, body]);
}

export type DecodeProxyResult =
  | { kind: 'incomplete'; /** Bytes needed in total before decoding can finish. */ needed: number }
  | { kind: 'header'; header: ProxyHeader; /** Bytes the header occupies; application data follows. */ length: number };

function ipText(bytes: Buffer, family: 4 | 6): string {
  const text = ipFromBytes(bytes)!;
  // Node's text for IPv6 (a mapped address prints as `::ffff:1.2.3.4`, as a dual-stack socket reports it).
  return family === 4 ? text : new NetSocketAddress({ address: text, family: 'ipv6' }).address;
}

function decodeTlvs(bytes: Buffer): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 3) throw invalid(`${bytes.length - offset} trailing bytes are too short for a TLV`);
    const type = bytes.readUInt8(offset);
    const length = bytes.readUInt16BE(offset + 1);
    if (offset + 3 + length > bytes.length) {
      throw invalid(`TLV 0x${type.toString(16)} claims ${length} bytes, only ${bytes.length - offset - 3} remain`);
    }
    tlvs.push({ type, value: Buffer.from(bytes.subarray(offset + 3, offset + 3 + length)) });
    offset += 3 + length;
  }
  return tlvs;
}

/**
 * Decode a PROXY v2 header at the start of `input`. Returns `incomplete` until enough bytes arrived;
 * throws `PROXY_V2_INVALID` on anything malformed (wrong signature, version, command, family, or lengths
 * that disagree). `maxLength` bounds what a peer may make us buffer (default 4096 bytes).
 */
export function decodeProxyHeader(input: Uint8Array, options: { maxLength?: number } = {}): DecodeProxyResult {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const prefix = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  if (!bytes.subarray(0, prefix).equals(PROXY_V2_SIGNATURE.subarray(0, prefix))) {
    throw invalid('the input does not start with the v2 signature');
  }
  if (bytes.length < headerFixedLength) return { kind: 'incomplete', needed: headerFixedLength };
  const versionCommand = bytes.readUInt8(12);
  if (versionCommand >> 4 !== 2) throw invalid(`version ${versionCommand >> 4}, expected 2`);
  const commandBits = versionCommand & 0x0f;
  if (commandBits > 1) throw invalid(`unknown command 0x${commandBits.toString(16)}`);
  const familyTransport = bytes.readUInt8(13);
  const bodyLength = bytes.readUInt16BE(14);
  const total = headerFixedLength + bodyLength;
  const maxLength = options.maxLength ?? 4096;
  if (total > maxLength) throw invalid(`the header is ${total} bytes, more than the ${maxLength} allowed`);
  if (bytes.length < total) return { kind: 'incomplete', needed: total };
  const body = bytes.subarray(headerFixedLength, total);
  const command = commandBits === 0 ? 'local' : 'proxy';
  if (familyTransport === 0x00 || command === 'local') {
    return { kind: 'header', header: { command, family: 'unspec', tlvs: decodeTlvs(body) }, length: total };
  }
  if (familyTransport !== 0x11 && familyTransport !== 0x21) {
    throw invalid(`family/transport 0x${familyTransport.toString(16)} is not TCP over IPv4 or IPv6`);
  }
  const family = familyTransport === 0x11 ? 4 : 6;
  const addressLength = addressLengths[familyTransport];
  if (bodyLength < addressLength) {
    throw invalid(`the body is ${bodyLength} bytes, IPv${family} addresses need ${addressLength}`);
  }
  const ipLength = family === 4 ? 4 : 16;
  const portsAt = ipLength * 2;
  const tlvs = decodeTlvs(body.subarray(addressLength));
  const identity = tlvs.find((tlv) => tlv.type === PP2_TYPE_PEER_IDENTITY);
  const header: ProxyHeader = {
    command: 'proxy',
    family,
    source: { address: ipText(body.subarray(0, ipLength), family), port: body.readUInt16BE(portsAt) },
    destination: { address: ipText(body.subarray(ipLength, portsAt), family), port: body.readUInt16BE(portsAt + 2) },
    tlvs,
  };
  if (identity) {
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      header.peerIdentity = text.decode(identity.value);
    } catch (error) {
      throw new HboneError('PROXY_V2_INVALID', 'PROXY v2 header: TLV 0xD0 is not valid UTF-8', { cause: error });
    }
  }
  return { kind: 'header', header, length: total };
}
