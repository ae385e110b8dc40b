// ZDS packets (facts §9.1) as ztunnel reads them: one WorkloadRequest per SOCK_SEQPACKET packet, at most 1024
// bytes, the pod's network-namespace fd riding along with AddWorkload (exactly one, SCM_RIGHTS) and with no other
// message. parseRequest turns a packet into a checked request or a ZdsError whose message names the pod (uid) and
// what was wrong: that text is the NACK. It never closes fds; the caller owns the packet's fds either way.
import {
  decodeWorkloadRequest,
  encodeWorkloadResponse,
  encodeZdsHello,
  IstioApiError,
  ZDS_MAX_MESSAGE_BYTES,
  type zds,
} from '@ambient-ts/istio-api';

export { ZDS_MAX_MESSAGE_BYTES };

export type ZdsErrorCode =
  /** the packet was longer than 1024 bytes (MSG_TRUNC) or carried more fds than fit (MSG_CTRUNC) */
  | 'ZDS_TRUNCATED'
  /** the bytes are not a WorkloadRequest, or one with no payload or several */
  | 'ZDS_MALFORMED'
  /** AddWorkload without exactly one fd */
  | 'ZDS_FD_MISSING'
  /** Keep, Del or SnapshotSent carrying fds */
  | 'ZDS_UNEXPECTED_FDS'
  /** the AddWorkload fd is not a network namespace */
  | 'ZDS_NOT_A_NAMESPACE'
  /** AddWorkload without workload_info, or a request without uid */
  | 'ZDS_INVALID_WORKLOAD'
  /** Keep or a second SnapshotSent after the snapshot */
  | 'ZDS_OUT_OF_SEQUENCE'
  /** the pod's proxy could not be started (NACKed, connection kept, retried) */
  | 'ZDS_POD_START_FAILED';

const marker = Symbol.for('@ambient-ts/ztunnel/ZdsError');

export class ZdsError extends Error {
  readonly code: ZdsErrorCode;
  /** The pod the request was about, when it named one. */
  readonly uid: string | undefined;
  readonly [marker] = true;

  constructor(code: ZdsErrorCode, message: string, options: { uid?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZdsError';
    this.code = code;
    this.uid = options.uid;
  }

  static isZdsError(value: unknown): value is ZdsError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** What the seqpacket transport delivers per packet (SeqpacketMessage of @ambient-ts/netns). */
export interface ZdsPacket {
  readonly data: Uint8Array;
  readonly fds: readonly number[];
  readonly truncated: boolean;
  readonly controlTruncated: boolean;
}

export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** A network namespace's identity (st_dev, st_ino): two fds of the same namespace compare equal. */
export interface NetnsId {
  readonly dev: number;
  readonly ino: number;
}

export type ZdsRequest =
  | {
      readonly kind: 'add';
      readonly uid: string;
      readonly info: PodInfo;
      readonly netnsFd: number;
      readonly netnsId: NetnsId;
    }
  | { readonly kind: 'keep'; readonly uid: string }
  | { readonly kind: 'del'; readonly uid: string }
  | { readonly kind: 'snapshot-sent' };

const PAYLOADS = ['add', 'del', 'snapshotSent', 'keep'] as const;
const WIRE_NAMES: Record<(typeof PAYLOADS)[number], string> = {
  add: 'AddWorkload',
  del: 'DelWorkload',
  snapshotSent: 'SnapshotSent',
  keep: 'KeepWorkload',
};

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

function decode(packet: ZdsPacket): zds.WorkloadRequest {
  if (packet.truncated) {
    throw new ZdsError(
      'ZDS_TRUNCATED',
      `ZDS message larger than ${ZDS_MAX_MESSAGE_BYTES} bytes (truncated to ${packet.data.length}); not decoded`,
    );
  }
  if (packet.controlTruncated) {
    throw new ZdsError('ZDS_TRUNCATED', 'ZDS message carried more fds than fit (ancillary data truncated)');
  }
  try {
    return decodeWorkloadRequest(packet.data);
  } catch (error) {
    const detail = IstioApiError.isIstioApiError(error) ? error.message : errorText(error);
    throw new ZdsError('ZDS_MALFORMED', `malformed ZDS message (${packet.data.length} bytes): ${detail}`, {
      cause: error,
    });
  }
}

function requireUid(uid: string | undefined, message: string): string {
  if (!uid) throw new ZdsError('ZDS_INVALID_WORKLOAD', `${message} without uid`);
  return uid;
}

/**
 * Decode and check one packet. `namespaceId` is @ambient-ts/netns's (throws for an fd that is not a network
 * namespace). Throws ZdsError; the fds are not closed here.
 */
export function parseRequest(packet: ZdsPacket, namespaceId: (fd: number) => NetnsId): ZdsRequest {
  const request = decode(packet);
  const present = PAYLOADS.filter((name) => request[name] !== undefined);
  if (present.length !== 1) {
    throw new ZdsError(
      'ZDS_MALFORMED',
      present.length === 0
        ? 'malformed ZDS message: WorkloadRequest without a payload (none of add, del, snapshot_sent, keep)'
        : `malformed ZDS message: WorkloadRequest with several payloads (${present.join(', ')})`,
    );
  }
  const kind = present[0]!;
  const fds = packet.fds.length;
  if (kind !== 'add') {
    const uid = kind === 'snapshotSent' ? undefined : request[kind]?.uid;
    if (fds > 0) {
      throw new ZdsError(
        'ZDS_UNEXPECTED_FDS',
        `${uid ? `pod ${uid}: ` : ''}${WIRE_NAMES[kind]} carried ${fds} fd(s); only AddWorkload may carry one`,
        uid ? { uid } : {},
      );
    }
    if (kind === 'snapshotSent') return { kind: 'snapshot-sent' };
    return { kind, uid: requireUid(uid, WIRE_NAMES[kind]) };
  }
  const add = request.add!;
  const uid = requireUid(add.uid, 'AddWorkload');
  if (fds !== 1) {
    throw new ZdsError(
      'ZDS_FD_MISSING',
      fds === 0
        ? `pod ${uid}: AddWorkload without a network namespace fd (exactly one is required)`
        : `pod ${uid}: AddWorkload carried ${fds} fds (exactly one network namespace fd is required)`,
      { uid },
    );
  }
  if (!add.workloadInfo) {
    throw new ZdsError('ZDS_INVALID_WORKLOAD', `pod ${uid}: AddWorkload without workload_info`, { uid });
  }
  const netnsFd = packet.fds[0]!;
  let netnsId: NetnsId;
  try {
    netnsId = namespaceId(netnsFd);
  } catch (error) {
    throw new ZdsError(
      'ZDS_NOT_A_NAMESPACE',
      `pod ${uid}: the fd passed with AddWorkload is not a network namespace (${errorText(error)})`,
      { uid, cause: error },
    );
  }
  const info = add.workloadInfo;
  return {
    kind: 'add',
    uid,
    info: { name: info.name ?? '', namespace: info.namespace ?? '', serviceAccount: info.serviceAccount ?? '' },
    netnsFd,
    netnsId: { dev: netnsId.dev, ino: netnsId.ino },
  };
}

/** ZdsHello{version: V1}, ztunnel's first packet on every connection. */
export function helloPacket(): Uint8Array {
  return encodeZdsHello({ version: 'V1' });
}

/** WorkloadResponse{ack}: no error is an ACK, an error text a NACK. */
export function ackPacket(error?: string): Uint8Array {
  return encodeWorkloadResponse({ ack: error ? { error } : {} });
}
