// The sockets ztunnel's DNS forwarder asks upstreams with. With PACKET_MARK set and the optional native helper
// @ambient-ts/netns usable, they carry SO_MARK (1337 in shared mode) so the in-pod redirect rules let
// ztunnel's own queries pass instead of capturing them again; otherwise they are plain sockets (nothing to
// mark them with, nothing is logged: outside shared mode nothing captures them). In shared mode each pod's
// forwarder makes them inside the pod's network namespace (facts §10), so the pod's routes are the ones used.
import { defaultUpstreamSockets, type UpstreamSockets } from '@ambient-ts/dns';

// a type-only import: the module itself is loaded lazily below
import type * as NetnsModule from '@ambient-ts/netns';

/** Upstream sockets made with the netns helper: in `netnsFd` (default ztunnel's own namespace), marked `mark`. */
export function namespaceUpstreamSockets(
  netns: typeof NetnsModule,
  options: { netnsFd?: number; mark?: number | undefined },
): UpstreamSockets {
  const where = {
    ...(options.netnsFd === undefined ? {} : { netns: options.netnsFd }),
    ...(options.mark === undefined ? {} : { mark: options.mark }),
  };
  return {
    udp: (type) => netns.bindUdpInNamespace({ ...where, host: type === 'udp6' ? '::' : '0.0.0.0', port: 0 }),
    // marked before connect(2), so the SYN already carries the mark
    tcp: (upstream) => netns.connectInNamespace({ ...where, host: upstream.host, port: upstream.port }),
  };
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
  return namespaceUpstreamSockets(netns, { mark });
}
