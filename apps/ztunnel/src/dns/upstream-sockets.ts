// The sockets ztunnel's DNS forwarder asks upstreams with. With PACKET_MARK set and the optional native helper
// @ambient-ts/netns usable, they carry SO_MARK (1337 in shared mode) so the in-pod redirect rules let
// ztunnel's own queries pass instead of capturing them again; otherwise they are plain sockets (nothing to
// mark them with, nothing is logged: outside shared mode nothing captures them).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { defaultUpstreamSockets, type UpstreamSockets } from '@ambient-ts/dns';

// a type-only import: the module itself is loaded lazily below
import type * as NetnsModule from '@ambient-ts/netns';

/** The fd under a dgram socket (Node keeps it behind a state symbol; `_handle` is deprecated). */
function udpFd(socket: UdpSocket): number | undefined {
  const state = Object.getOwnPropertySymbols(socket)
    .map((symbol) => (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[symbol])
    .find((value) => value && typeof value === 'object' && 'handle' in value);
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export async function markedUpstreamSockets(mark: number | undefined): Promise<UpstreamSockets> {
  if (mark === undefined) return defaultUpstreamSockets;
  let netns: typeof NetnsModule;
  try {
    netns = await import('@ambient-ts/netns');
  } catch {
    return defaultUpstreamSockets;
  }
  if (!netns.netnsSupport().available) return defaultUpstreamSockets;
  return {
    udp: (type) =>
      new Promise((resolve, reject) => {
        const socket = createSocket({ type });
        socket.once('error', reject);
        socket.bind(0, () => {
          socket.off('error', reject);
          const fd = udpFd(socket);
          try {
            if (fd !== undefined) netns.setMark(fd, mark);
            resolve(socket);
          } catch (error) {
            socket.close();
            reject(error as Error);
          }
        });
      }),
    // marked before connect(2), so the SYN already carries the mark
    tcp: (upstream) => netns.connectInNamespace({ host: upstream.host, port: upstream.port, mark }),
  };
}
