// The regular headers ztunnel puts on a CONNECT request (and reads back), in ztunnel's formats.
import { randomBytes } from 'node:crypto';
import { formatSocketAddress, type SocketAddress } from '@ambient-ts/addresses';
import { HboneError } from './errors.ts';

export const BAGGAGE_HEADER = 'baggage';
export const FORWARDED_HEADER = 'forwarded';
export const TRACEPARENT_HEADER = 'traceparent';
/** Only on the inner CONNECT of double HBONE: the source's network. */
export const FORWARDED_NETWORK_HEADER = 'x-forwarded-network';

/** Workload metadata carried in `baggage` (all optional; empty values are left out). */
export interface BaggageFields {
  clusterId?: string;
  namespace?: string;
  /** Lower-cased WorkloadType: deployment, cronjob, pod or job. */
  workloadType?: string;
  workloadName?: string;
  service?: string;
  revision?: string;
  region?: string;
  zone?: string;
}

const workloadTypes = ['deployment', 'cronjob', 'pod', 'job'];

/** `k8s.cluster.name=..,k8s.namespace.name=..,k8s.<type>.name=..,service.name=..,...` in ztunnel's order. */
export function formatBaggage(fields: BaggageFields): string {
  const entries: [string, string | undefined][] = [
    ['k8s.cluster.name', fields.clusterId],
    ['k8s.namespace.name', fields.namespace],
    [`k8s.${fields.workloadType ?? 'pod'}.name`, fields.workloadName],
    ['service.name', fields.service],
    ['service.version', fields.revision],
    ['cloud.region', fields.region],
    ['cloud.availability_zone', fields.zone],
  ];
  return entries
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Read the keys ztunnel understands from one or more `baggage` values; unknown members are ignored. */
export function parseBaggage(value: string | readonly string[] | undefined): BaggageFields {
  const out: BaggageFields = {};
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  for (const member of values.flatMap((text) => text.split(','))) {
    const eq = member.indexOf('=');
    if (eq === -1) continue;
    const key = member.slice(0, eq).trim();
    // Properties after ';' are W3C metadata ztunnel does not use.
    const text = member
      .slice(eq + 1)
      .split(';')[0]!
      .trim();
    if (text === '') continue;
    if (key === 'k8s.cluster.name') out.clusterId = text;
    else if (key === 'k8s.namespace.name') out.namespace = text;
    else if (key === 'service.name') out.service = text;
    else if (key === 'service.version') out.revision = text;
    else if (key === 'cloud.region') out.region = text;
    else if (key === 'cloud.availability_zone') out.zone = text;
    else {
      const type = /^k8s\.([a-z]+)\.name$/.exec(key)?.[1];
      if (type && workloadTypes.includes(type)) {
        out.workloadType = type;
        out.workloadName = text;
      }
    }
  }
  return out;
}

/** `for="10.0.0.5:43210"` plus `;host=<service hostname>` when the connection addressed a Service. */
export function formatForwarded(client: SocketAddress, host?: string): string {
  const base = `for="${formatSocketAddress(client)}"`;
  return host ? `${base};host=${host}` : base;
}

/** The `for` and `host` parameters of the first `forwarded` element (RFC 7239 quoting). */
export function parseForwarded(value: string | undefined): { for?: string; host?: string } {
  const out: { for?: string; host?: string } = {};
  if (!value) return out;
  const first = value.split(',')[0]!;
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    let text = pair.slice(eq + 1).trim();
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
    if (key === 'for') out.for = text;
    else if (key === 'host') out.host = text;
  }
  return out;
}

export interface TraceParent {
  version: string;
  traceId: string;
  parentId: string;
  flags: string;
}

/** A fresh W3C traceparent `00-<32 hex>-<16 hex>-00`, random per outbound connection as ztunnel does. */
export function newTraceparent(): string {
  const bytes = randomBytes(24);
  return `00-${bytes.subarray(0, 16).toString('hex')}-${bytes.subarray(16).toString('hex')}-00`;
}

/** Parse a W3C traceparent; throws `INVALID_HEADER` for anything else (all-zero ids are invalid). */
export function parseTraceparent(value: string): TraceParent {
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value.trim());
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2]!) || /^0+$/.test(match[3]!)) {
    throw new HboneError(
      'INVALID_HEADER',
      `traceparent ${JSON.stringify(value.slice(0, 100))} is not <2 hex>-<32 hex>-<16 hex>-<2 hex> with non-zero ids`,
    );
  }
  return { version: match[1]!, traceId: match[2]!, parentId: match[3]!, flags: match[4]! };
}

/**
 * True when the request came through a gateway from another network: `x-forwarded-network` is present
 * and differs (case-insensitively) from ours. ztunnel then trusts baggage instead of the source IP.
 */
export function isFromOtherNetwork(headers: Readonly<Record<string, unknown>>, ownNetwork: string): boolean {
  const value = headers[FORWARDED_NETWORK_HEADER];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.toLowerCase() !== ownNetwork.toLowerCase();
}
