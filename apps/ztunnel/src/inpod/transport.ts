// What the ZDS client needs from the machine: a SOCK_SEQPACKET connection to INPOD_UDS and a check that an fd is
// a network namespace. Both come from @ambient-ts/netns, an optional dependency loaded lazily so that ztunnel runs
// (in node and dedicated mode) where the native addon is not built.
import type * as Netns from '@ambient-ts/netns';
import type { NetnsId, ZdsPacket } from './protocol.ts';

/** One connection to the node agent (SeqpacketSocket of @ambient-ts/netns). */
export interface ZdsConnection {
  send(data: Uint8Array, fds?: readonly number[]): void;
  close(): void;
  on(event: 'message', listener: (packet: ZdsPacket) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface ZdsTransport {
  /** Connects at once or throws (a local unix connect does not wait). */
  connect(path: string): ZdsConnection;
  /** The namespace's identity; throws for an fd that is not a network namespace. */
  namespaceId(fd: number): NetnsId;
}

/** The real transport, or an Error saying why in-pod mode cannot run here. */
export async function loadZdsTransport(): Promise<ZdsTransport> {
  let netns: typeof Netns;
  try {
    netns = await import('@ambient-ts/netns');
  } catch (error) {
    throw new Error(`ZDS needs @ambient-ts/netns, which is not installed (${(error as Error).message})`, {
      cause: error,
    });
  }
  const support = netns.netnsSupport();
  if (!support.available) throw new Error(`ZDS needs the native helper @ambient-ts/netns: ${support.reason}`);
  return {
    connect: (path) => netns.SeqpacketSocket.connect(path),
    namespaceId: (fd) => netns.namespaceId(fd),
  };
}
