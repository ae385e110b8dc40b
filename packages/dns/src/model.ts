// Our DNS model: what the proxy reasons about, independent of the wire library. wire.ts converts
// dns-packet's messages into these at the edge (and answers back from them).

/** Query types answered from the mesh; every other type is forwarded. */
export type AddressType = 'A' | 'AAAA';

export interface DnsQuestion {
  /** As asked (case kept, no trailing dot; the root is ""). */
  readonly name: string;
  /** Upper-case mnemonic (`A`, `AAAA`, `TXT`, …) or `TYPE<n>` for one dns-packet does not name. */
  readonly type: string;
  readonly class: string;
}

/** A query we will answer: QUERY opcode, one question. */
export interface DnsQuery {
  readonly id: number;
  readonly question: DnsQuestion;
  readonly recursionDesired: boolean;
  readonly checkingDisabled: boolean;
  /** The client's EDNS OPT record, if it sent one. */
  readonly edns?: { readonly udpPayloadSize: number; readonly version: number; readonly dnssecOk: boolean };
}

/** A record we answer locally (TTL 30 s as ztunnel). */
export type LocalRecord =
  | { readonly type: AddressType; readonly name: string; readonly address: string; readonly ttl: number }
  | { readonly type: 'CNAME'; readonly name: string; readonly target: string; readonly ttl: number };

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export type DnsProtocol = 'udp' | 'tcp';

/** ztunnel's TTL for locally answered records. */
export const LOCAL_TTL_SECONDS = 30;
/** The smallest UDP payload a client may be answered with (RFC 1035), whatever its EDNS says. */
export const MIN_UDP_PAYLOAD = 512;
