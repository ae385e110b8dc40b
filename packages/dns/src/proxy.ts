// The DNS proxy: one message from a pod in, one answer out. Mesh names are answered authoritatively from the
// workload store with the client's view (resolver.ts); everything else goes to the upstreams (forwarder.ts).
// Bad input gets its answer (FORMERR, NOTIMP, SERVFAIL) or is dropped, and is reported; nothing throws.
import { DnsError, type DnsErrorCode } from './errors.ts';
import type { Forwarder } from './forwarder.ts';
import { type DnsProtocol, type DnsQuestion, type Rcode } from './model.ts';
import { resolveMesh, type DnsClient, type MeshResolverOptions, type MeshView } from './resolver.ts';
import type { DnsMessageContext, DnsRemote } from './server.ts';
import { addressesOf, decodeIncoming, encodeQuery, encodeResponse, forwardedResponse, udpLimit } from './wire.ts';

const TCP_LIMIT = 65_535;
const rcodeNames = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** A message that never became a query (the counter of bad input). */
export interface DnsRejectedEvent {
  readonly kind: 'rejected';
  readonly protocol: DnsProtocol;
  readonly remote: DnsRemote;
  readonly reason: 'too short' | 'response' | 'malformed' | 'opcode' | 'question count';
  /** what we answered; undefined = dropped */
  readonly rcode?: Rcode;
}

/** One answered query (ztunnel's DNS metrics and access log). */
export interface DnsQueryEvent<C> {
  readonly kind: 'query';
  readonly protocol: DnsProtocol;
  readonly remote: DnsRemote;
  readonly question: DnsQuestion;
  /** undefined: the client's workload is unknown (answered SERVFAIL) */
  readonly client?: C;
  readonly outcome: 'local' | 'forwarded' | 'forward failed' | 'unknown client';
  /** ztunnel's access-log `result`: success, no records, forwarded, forwarding failed (…), unknown source */
  readonly result: string;
  readonly rcode: string;
  readonly answers: number;
  /** set when the query went upstream */
  readonly upstream?: {
    readonly seconds: number;
    readonly protocol?: DnsProtocol;
    readonly address?: string;
    readonly error?: DnsErrorCode;
  };
}

export type DnsEvent<C> = DnsRejectedEvent | DnsQueryEvent<C>;

export interface DnsProxyOptions<C extends DnsClient> extends MeshResolverOptions {
  readonly view: MeshView;
  readonly forwarder: Forwarder;
  /** The search domains a client's resolver appends (stripped before matching). */
  readonly searchDomains: (client: C) => readonly string[];
  readonly onEvent?: (event: DnsEvent<C>) => void;
}

export interface DnsRequest<C> extends DnsMessageContext {
  /** The querying pod's workload (waits as the caller sees fit); undefined answers SERVFAIL. */
  readonly client: () => Promise<C | undefined>;
}

export class DnsProxy<C extends DnsClient = DnsClient> {
  readonly #options: DnsProxyOptions<C>;

  constructor(options: DnsProxyOptions<C>) {
    this.#options = options;
  }

  get forwarder(): Forwarder {
    return this.#options.forwarder;
  }

  #emit(event: DnsEvent<C>): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // an observer must not break answering
    }
  }

  /** The answer to one message, or undefined when it is dropped. Never throws. */
  async handle(message: Buffer, request: DnsRequest<C>): Promise<Buffer | undefined> {
    const { protocol, remote } = request;
    const incoming = decodeIncoming(message, protocol);
    if (incoming.kind === 'drop') {
      this.#emit({ kind: 'rejected', protocol, remote, reason: incoming.reason });
      return undefined;
    }
    if (incoming.kind === 'reject') {
      this.#emit({ kind: 'rejected', protocol, remote, reason: incoming.reason, rcode: incoming.rcode });
      return incoming.response;
    }
    const query = incoming.query;
    const limit = protocol === 'udp' ? udpLimit(query) : TCP_LIMIT;
    const base = { kind: 'query' as const, protocol, remote, question: query.question };
    let client: C | undefined;
    try {
      client = await request.client();
    } catch {
      client = undefined;
    }
    if (!client) {
      this.#emit({ ...base, outcome: 'unknown client', result: 'unknown source', rcode: 'SERVFAIL', answers: 0 });
      return encodeResponse(query, [], { rcode: 'SERVFAIL', authoritative: false, limit });
    }
    const options = this.#options;
    // only class IN names the mesh; CH/HS/ANY questions go upstream like any unknown name
    const resolution =
      query.question.class === 'IN'
        ? resolveMesh(options.view, client, query.question, options.searchDomains(client), options)
        : ({ kind: 'forward', reason: 'unknown host' } as const);
    if (resolution.kind === 'answer') {
      this.#emit({
        ...base,
        client,
        outcome: 'local',
        result: resolution.result,
        rcode: 'NOERROR',
        answers: resolution.records.length,
      });
      return encodeResponse(query, resolution.records, { authoritative: true, limit });
    }
    const started = performance.now();
    try {
      const forwarded = await options.forwarder.forward(message, query);
      const seconds = (performance.now() - started) / 1000;
      this.#emit({
        ...base,
        client,
        outcome: 'forwarded',
        result: 'forwarded',
        rcode: rcodeNames[forwarded.answer.rcode] ?? `RCODE${forwarded.answer.rcode}`,
        answers: forwarded.answer.answerCount,
        upstream: {
          seconds,
          protocol: forwarded.protocol,
          address: `${forwarded.upstream.host}:${forwarded.upstream.port}`,
        },
      });
      return forwardedResponse(forwarded.response, query, limit);
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      const code = error instanceof DnsError ? error.code : 'DNS_UPSTREAM_FAILED';
      this.#emit({
        ...base,
        client,
        outcome: 'forward failed',
        result: `forwarding failed (${(error as Error).message})`,
        rcode: 'SERVFAIL',
        answers: 0,
        upstream: { seconds, error: code },
      });
      return encodeResponse(query, [], { rcode: 'SERVFAIL', authoritative: false, limit });
    }
  }

  /**
   * The addresses `name` resolves to for `client` (SOCKS5 domain targets, on-demand lookups): the mesh answer
   * when it is a mesh name, else the upstreams' A (then AAAA) answer. Empty when nothing resolves; throws
   * DnsError when the upstreams fail.
   */
  async lookup(name: string, client: C, types: readonly ('A' | 'AAAA')[] = ['A', 'AAAA']): Promise<string[]> {
    const options = this.#options;
    for (const type of types) {
      if (type === 'AAAA' && !options.ipv6Enabled) continue;
      const question = { name, type };
      const resolution = resolveMesh(options.view, client, question, options.searchDomains(client), options);
      if (resolution.kind === 'answer') {
        const addresses = resolution.records.flatMap((record) => (record.type === 'CNAME' ? [] : [record.address]));
        if (addresses.length > 0) return addresses;
        continue;
      }
      const message = encodeQuery(name, type, 0);
      const decoded = decodeIncoming(message, 'udp');
      if (decoded.kind !== 'query') return [];
      const forwarded = await options.forwarder.forward(message, decoded.query);
      const { addresses } = addressesOf(forwarded.response, type);
      if (addresses.length > 0) return addresses;
    }
    return [];
  }
}
