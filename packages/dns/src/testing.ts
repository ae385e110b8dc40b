// @ambient-ts/dns/testing — a small authoritative DNS server on loopback for tests and benchmarks (built on
// the same transport and wire library): fixed records per name, NXDOMAIN otherwise, names that never get an
// answer, UDP answers truncated to the client's size (TC set) so clients retry over TCP.
import * as packet from 'dns-packet';
import type { Answer } from 'dns-packet';
import { bindDnsSockets } from './bind.ts';
import { serveDns } from './server.ts';

export type ZoneRecord =
  | { readonly type: 'A' | 'AAAA' | 'CNAME' | 'NS' | 'PTR'; readonly data: string; readonly ttl?: number }
  | { readonly type: 'TXT'; readonly data: string | string[]; readonly ttl?: number };

export interface TestUpstreamOptions {
  /** Records by lower-case name (no trailing dot); every other name is NXDOMAIN. */
  readonly records: Readonly<Record<string, readonly ZoneRecord[]>>;
  /** Names whose queries are read and never answered. */
  readonly silent?: readonly string[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port); 53 for a resolv.conf `nameserver` line (needs root). */
  readonly port?: number;
}

export interface TestUpstream {
  readonly host: string;
  readonly port: number;
  /** Queries received, by protocol. */
  readonly received: { udp: number; tcp: number };
  /** The names asked, in order (lower case). */
  readonly asked: string[];
  close(): Promise<void>;
}

export async function startTestUpstream(options: TestUpstreamOptions): Promise<TestUpstream> {
  const sockets = await bindDnsSockets(options.host ?? '127.0.0.1', options.port ?? 0);
  const received = { udp: 0, tcp: 0 };
  const asked: string[] = [];
  const silent = new Set(options.silent ?? []);
  const transport = serveDns({
    ...sockets,
    maxUdpInFlight: 100_000,
    handle: async (message, { protocol }) => {
      received[protocol]++;
      let query: packet.DecodedPacket;
      try {
        query = packet.decode(message);
      } catch {
        return undefined;
      }
      const question = query.questions?.[0];
      if (!question) return undefined;
      const name = question.name.toLowerCase();
      asked.push(name);
      if (silent.has(name)) return undefined;
      const records = options.records[name];
      const answers: Answer[] = (records ?? [])
        .filter((record) => record.type === question.type || record.type === 'CNAME')
        .map(
          (record) => ({ name: question.name, type: record.type, ttl: record.ttl ?? 60, data: record.data }) as Answer,
        );
      const opt = query.additionals?.find((record) => record.type === 'OPT') as packet.OptAnswer | undefined;
      const flags = packet.AUTHORITATIVE_ANSWER | (query.flag_rd ? packet.RECURSION_DESIRED : 0) | (records ? 0 : 3); // 3 = NXDOMAIN
      const response: packet.Packet = {
        type: 'response',
        id: query.id ?? 0,
        flags,
        questions: [question],
        answers,
        additionals: opt ? [{ ...opt, udpPayloadSize: 4096 }] : [],
      };
      const limit = protocol === 'tcp' ? 65_535 : Math.max(512, opt?.udpPayloadSize ?? 512);
      if (packet.encodingLength(response) > limit) {
        return packet.encode({ ...response, flags: flags | packet.TRUNCATED_RESPONSE, answers: [] });
      }
      return packet.encode(response);
    },
  });
  return {
    host: sockets.host,
    port: sockets.port,
    received,
    asked,
    close: () => transport.close(),
  };
}

/** What `dig` printed, parsed: the header, the flags and the answer section. */
export interface DigResult {
  readonly status: string;
  readonly flags: readonly string[];
  /** `<name> <ttl> <type> <data>` per answer record, names without the trailing dot. */
  readonly answers: readonly { name: string; ttl: number; type: string; data: string }[];
  /** dig saw TC over UDP and retried over TCP */
  readonly retriedTcp: boolean;
  readonly raw: string;
}

export interface DigOptions {
  readonly type?: string;
  readonly tcp?: boolean;
  /** EDNS UDP size; `false` sends no EDNS. */
  readonly bufsize?: number | false;
  /** Keep the truncated UDP answer instead of retrying over TCP. */
  readonly ignoreTruncation?: boolean;
  /** Query class (`-c`), default IN. */
  readonly class?: string;
  /** Source address (`-b`). */
  readonly source?: string;
  readonly timeoutSeconds?: number;
  /** UDP tries (default 1: no retry). */
  readonly tries?: number;
}

/** Ask `server:port` with Debian's dig (bind9-dnsutils) — an independent client for the tests. */
export async function dig(server: string, port: number, name: string, options: DigOptions = {}): Promise<DigResult> {
  const { execFile } = await import('node:child_process');
  const args = [
    `@${server}`,
    '-p',
    String(port),
    name,
    options.type ?? 'A',
    `+tries=${options.tries ?? 1}`,
    `+time=${options.timeoutSeconds ?? 5}`,
  ];
  if (options.tcp) args.push('+tcp');
  if (options.bufsize === false) args.push('+noedns');
  else if (options.bufsize !== undefined) args.push(`+bufsize=${options.bufsize}`);
  if (options.ignoreTruncation) args.push('+ignore');
  if (options.source) args.push('-b', options.source);
  if (options.class) args.push('-c', options.class);
  const raw = await new Promise<string>((resolve) => {
    execFile(
      'dig',
      args,
      { timeout: ((options.timeoutSeconds ?? 5) * (options.tries ?? 1) + 5) * 1000 },
      (_error, stdout) => resolve(String(stdout)),
    );
  });
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? 'NO ANSWER';
  const flags = (/;; flags: ([a-z ]*);/.exec(raw)?.[1] ?? '').split(' ').filter(Boolean);
  const answers: { name: string; ttl: number; type: string; data: string }[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(raw)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 5) continue;
    const [recordName, ttl, , type, ...data] = parts;
    answers.push({
      name: recordName!.replace(/\.$/, ''),
      ttl: Number(ttl),
      type: type!,
      data: data.join(' ').replace(/\.$/, ''),
    });
  }
  return { status, flags, answers, retriedTcp: raw.includes('retrying in TCP mode'), raw };
}
