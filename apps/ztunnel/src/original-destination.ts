// Where a captured connection was originally going. In-pod capture reads SO_ORIGINAL_DST through the native
// helper (inpodOriginalDestination). Node mode has no capture: the connection arrived at <workload IP>:15006
// itself, so the IP is the local address and the port is the workload's one inbound application port
// (refused, with the candidates named, when there are several).
import type { Socket } from 'node:net';
import { formatHostPort, normalizeAddress } from '@ambient-ts/addresses';
import type { Workload } from '@ambient-ts/discovery';
import type { ProxyState } from './proxy-state.ts';

export type OriginalDestinationResult = { ok: true; ip: string; port: number } | { ok: false; error: string };

export interface OriginalDestination {
  lookup(socket: Socket, local: Workload): OriginalDestinationResult;
}

/** Node mode: the workload's single target port (from its services), since nothing was redirected. */
export function nodeModeOriginalDestination(state: ProxyState, listenerPort: number): OriginalDestination {
  return {
    lookup(socket, local) {
      const ip = normalizeAddress(socket.localAddress ?? '');
      if (socket.localPort !== listenerPort) return { ok: true, ip, port: socket.localPort ?? 0 };
      const ports = new Set<number>();
      for (const { ports: mapping } of local.services) for (const target of mapping.values()) ports.add(target);
      for (const service of state.store.servicesOfWorkload(local)) {
        for (const { targetPort } of service.ports) if (targetPort !== 0) ports.add(targetPort);
      }
      if (ports.size === 1) return { ok: true, ip, port: [...ports][0]! };
      return {
        ok: false,
        error:
          ports.size === 0
            ? `cannot determine the original destination of a plaintext connection to ${formatHostPort(ip, listenerPort)}: node mode has no capture and ${local.name} exposes no service port`
            : `cannot determine the original destination of a plaintext connection to ${formatHostPort(ip, listenerPort)}: node mode has no capture and ${local.name} exposes ports ${[...ports].sort((a, b) => a - b).join(', ')}`,
      };
    },
  };
}

/**
 * In-pod capture: iptables REDIRECTed the connection, so the original destination is the netfilter record
 * (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST, else the local address: facts §9.2), read by `read`
 * (@ambient-ts/netns's originalDestination).
 */
export function inpodOriginalDestination(
  read: (socket: Socket) => { address: string; port: number },
): OriginalDestination {
  return {
    lookup(socket) {
      try {
        const original = read(socket);
        return { ok: true, ip: normalizeAddress(original.address), port: original.port };
      } catch (error) {
        return { ok: false, error: `cannot read the original destination: ${(error as Error).message}` };
      }
    },
  };
}
