// The DNS wire edge: dns-packet messages in, our model (model.ts) out, and responses encoded back. Nothing
// past this file sees dns-packet's shapes. Forwarded responses stay bytes: only their header is patched
// (id, AA, RA) and, for a UDP client with a smaller limit, they are re-encoded truncated.
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer } from 'dns-packet';
import { MIN_UDP_PAYLOAD, type DnsQuery, type LocalRecord, type Rcode } from './model.ts';

const HEADER_BYTES = 12;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const AA = packet.AUTHORITATIVE_ANSWER;
const TC = packet.TRUNCATED_RESPONSE;
const RD = packet.RECURSION_DESIRED;
const RA = packet.RECURSION_AVAILABLE;
const CD = packet.CHECKING_DISABLED;
const rcodes: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** What an incoming message is: a query to answer, or why not (with what to send back, if anything). */
export type Incoming =
  | { readonly kind: 'query'; readonly query: DnsQuery }
  /** shorter than a header, or a response (QR set) over UDP: nothing is sent back */
  | { readonly kind: 'drop'; readonly reason: 'too short' | 'response' }
  /** answered with `rcode` and no records; `reason` for the counter and the log */
  | {
      readonly kind: 'reject';
      readonly rcode: Rcode;
      readonly reason: 'malformed' | 'response' | 'opcode' | 'question count';
      readonly response: Buffer;
    };

/** A header-only error response echoing the id, opcode and RD of `message` (which may be garbage past 12 bytes). */
export function errorFromHeader(message: Buffer, rcode: Rcode): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(message.readUInt16BE(0), 0);
  const flags = message.readUInt16BE(2);
  out.writeUInt16BE(QR | (flags & OPCODE_MASK) | (flags & RD) | RA | rcodes[rcode], 2);
  return out;
}

/**
 * Convert one message from a client. `protocol` decides what happens to a response sent to us: dropped over
 * UDP (answering could start a loop with another proxy), FORMERR over TCP.
 */
export function decodeIncoming(message: Buffer, protocol: 'udp' | 'tcp'): Incoming {
  if (message.length < HEADER_BYTES) return { kind: 'drop', reason: 'too short' };
  const flags = message.readUInt16BE(2);
  if (flags & QR) {
    if (protocol === 'udp') return { kind: 'drop', reason: 'response' };
    return { kind: 'reject', rcode: 'FORMERR', reason: 'response', response: errorFromHeader(message, 'FORMERR') };
  }
  if ((flags & OPCODE_MASK) !== 0) {
    return { kind: 'reject', rcode: 'NOTIMP', reason: 'opcode', response: errorFromHeader(message, 'NOTIMP') };
  }
  let decoded: DecodedPacket;
  try {
    decoded = packet.decode(message);
  } catch {
    return { kind: 'reject', rcode: 'FORMERR', reason: 'malformed', response: errorFromHeader(message, 'FORMERR') };
  }
  const questions = decoded.questions ?? [];
  if (questions.length !== 1) {
    return {
      kind: 'reject',
      rcode: 'FORMERR',
      reason: 'question count',
      response: errorFromHeader(message, 'FORMERR'),
    };
  }
  const question = questions[0]!;
  const opt = (decoded.additionals ?? []).find((record): record is OptAnswer => record.type === 'OPT');
  return {
    kind: 'query',
    query: {
      id: decoded.id ?? 0,
      question: {
        name: question.name === '.' ? '' : question.name,
        type: String(question.type).toUpperCase(),
        class: String(question.class ?? 'IN').toUpperCase(),
      },
      recursionDesired: decoded.flag_rd,
      checkingDisabled: decoded.flag_cd,
      ...(opt ? { edns: { udpPayloadSize: opt.udpPayloadSize, version: opt.ednsVersion, dnssecOk: opt.flag_do } } : {}),
    },
  };
}

/** The most a UDP response to this query may carry: its EDNS size, never below 512. */
export function udpLimit(query: DnsQuery): number {
  return Math.max(MIN_UDP_PAYLOAD, query.edns?.udpPayloadSize ?? MIN_UDP_PAYLOAD);
}

function responseOpt(query: DnsQuery): OptAnswer[] {
  if (!query.edns) return [];
  return [
    {
      type: 'OPT',
      name: '.',
      udpPayloadSize: Math.max(MIN_UDP_PAYLOAD, query.edns.udpPayloadSize),
      extendedRcode: 0,
      ednsVersion: query.edns.version,
      flags: query.edns.dnssecOk ? packet.DNSSEC_OK : 0,
      flag_do: query.edns.dnssecOk,
      options: [],
    },
  ];
}

function toAnswer(record: LocalRecord): Answer {
  if (record.type === 'CNAME') return { type: 'CNAME', name: record.name, ttl: record.ttl, data: record.target };
  return { type: record.type, name: record.name, ttl: record.ttl, data: record.address };
}

/** Encode a response; over `limit` bytes, whole answers are dropped from the end and TC is set. */
function encodeFitting(
  header: { id: number; flags: number },
  questions: packet.Question[],
  answers: Answer[],
  rest: { authorities: Answer[]; additionals: Answer[] },
  opt: Answer[],
  limit: number,
): Buffer {
  const full = { type: 'response' as const, id: header.id, flags: header.flags, questions, answers, ...rest };
  full.additionals = [...rest.additionals, ...opt];
  if (packet.encodingLength(full) <= limit) return packet.encode(full);
  // Truncated: the question, as many whole answers as fit, the OPT record, TC.
  const truncated = {
    type: 'response' as const,
    id: header.id,
    flags: header.flags | TC,
    questions,
    answers: [] as Answer[],
    authorities: [],
    additionals: opt,
  };
  let size = packet.encodingLength(truncated);
  for (const answer of answers) {
    const next = packet.encodingLength({ answers: [answer] }) - HEADER_BYTES;
    if (size + next > limit) break;
    truncated.answers.push(answer);
    size += next;
  }
  if (size > limit) truncated.questions = [];
  return packet.encode(truncated);
}

export interface LocalResponseOptions {
  readonly rcode?: Rcode;
  readonly authoritative: boolean;
  /** UDP: udpLimit(query); TCP: 65535. */
  readonly limit: number;
}

/** Encode our own answer to `query` (local records, or an rcode with none). */
export function encodeResponse(
  query: DnsQuery,
  records: readonly LocalRecord[],
  options: LocalResponseOptions,
): Buffer {
  const flags =
    (options.authoritative ? AA : 0) |
    (query.recursionDesired ? RD : 0) |
    RA |
    (query.checkingDisabled ? CD : 0) |
    rcodes[options.rcode ?? 'NOERROR'];
  const question = query.question;
  const questions = [{ name: question.name || '.', type: question.type, class: question.class } as packet.Question];
  return encodeFitting(
    { id: query.id, flags },
    questions,
    records.map(toAnswer),
    { authorities: [], additionals: [] },
    responseOpt(query),
    options.limit,
  );
}

/** A copy of a query message with another id (what goes upstream). */
export function withId(message: Buffer, id: number): Buffer {
  const out = Buffer.from(message);
  out.writeUInt16BE(id, 0);
  return out;
}

/** What an upstream answered, checked against what we asked. */
export interface UpstreamAnswer {
  readonly truncated: boolean;
  readonly rcode: number;
  readonly answerCount: number;
}

/**
 * Whether `response` answers `upstreamId` for `query` (id, QR, same question); undefined when it does not
 * (a stray or spoofed datagram, which the caller ignores).
 */
export function checkUpstreamResponse(
  response: Buffer,
  upstreamId: number,
  query: DnsQuery,
): UpstreamAnswer | undefined {
  if (response.length < HEADER_BYTES || response.readUInt16BE(0) !== upstreamId) return undefined;
  const flags = response.readUInt16BE(2);
  if (!(flags & QR)) return undefined;
  let decoded: DecodedPacket;
  try {
    decoded = packet.decode(response);
  } catch {
    // A truncated answer may be cut mid-record; the header and question still count.
    const truncated = (flags & TC) !== 0;
    return truncated ? { truncated, rcode: flags & 0xf, answerCount: 0 } : undefined;
  }
  const question = decoded.questions?.[0];
  if (
    !question ||
    question.name.toLowerCase() !== (query.question.name || '.').toLowerCase() ||
    String(question.type).toUpperCase() !== query.question.type
  ) {
    return undefined;
  }
  return { truncated: decoded.flag_tc, rcode: flags & 0xf, answerCount: decoded.answers?.length ?? 0 };
}

/**
 * The upstream's response as we send it on: the client's id, AA cleared (we are not the authority), RA set;
 * re-encoded with whole answers dropped and TC set when it exceeds `limit`.
 */
export function forwardedResponse(upstream: Buffer, query: DnsQuery, limit: number): Buffer {
  const out = Buffer.from(upstream);
  out.writeUInt16BE(query.id, 0);
  out.writeUInt16BE((out.readUInt16BE(2) & ~AA) | RA, 2);
  if (out.length <= limit) return out;
  let decoded: DecodedPacket;
  try {
    decoded = packet.decode(out);
  } catch {
    return errorFromHeader(out, 'SERVFAIL');
  }
  const additionals = decoded.additionals ?? [];
  return encodeFitting(
    { id: query.id, flags: decoded.flags ?? 0 },
    decoded.questions ?? [],
    decoded.answers ?? [],
    { authorities: decoded.authorities ?? [], additionals: additionals.filter((record) => record.type !== 'OPT') },
    additionals.filter((record) => record.type === 'OPT'),
    limit,
  );
}

/** Build a query message (SOCKS5 and on-demand lookups, tests, the bench). */
export function encodeQuery(name: string, type: string, id: number, options: { udpPayloadSize?: number } = {}): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: RD,
    questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
    additionals: options.udpPayloadSize
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: options.udpPayloadSize,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [],
  });
}

/** The A/AAAA addresses of a response message (SOCKS5 and on-demand lookups). */
export function addressesOf(response: Buffer, type: 'A' | 'AAAA'): { rcode: number; addresses: string[] } {
  const decoded = packet.decode(response);
  const addresses = (decoded.answers ?? [])
    .filter((answer) => answer.type === type)
    .map((answer) => String((answer as { data: unknown }).data));
  return { rcode: (decoded.flags ?? 0) & 0xf, addresses };
}
