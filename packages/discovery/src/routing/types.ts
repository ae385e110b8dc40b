// Routing decisions as values: what to dial, with which identities, and why. Never performs I/O.
import type { Service, Workload } from '../model.ts';

/** An IP to dial now, or a hostname the caller resolves (workloads known only by hostname). */
export type Dial =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  | { readonly kind: 'dns'; readonly hostname: string; readonly port: number };

export interface SocketTarget {
  readonly ip: string;
  readonly port: number;
}

export type OutboundDecision =
  | { readonly kind: 'drop'; readonly reason: 'illegal-port' | 'unknown-source'; readonly message: string }
  | {
      readonly kind: 'fail';
      readonly reason: 'no-healthy-upstream' | 'unknown-waypoint' | 'no-network-gateway' | 'unknown-gateway';
      readonly message: string;
      readonly service?: Service;
    }
  /** on-demand xDS: fetch `name` (`network/ip`) and route again */
  | { readonly kind: 'lookup'; readonly reason: 'on-demand'; readonly name: string; readonly message: string }
  /** plain TCP to the original destination, no HBONE, no spoofing */
  | {
      readonly kind: 'passthrough';
      readonly reason: 'unknown-destination' | 'lb-passthrough';
      readonly target: SocketTarget;
      readonly service?: Service;
      readonly message: string;
    }
  /** plain TCP to a workload that does not speak HBONE */
  | {
      readonly kind: 'tcp';
      readonly reason: 'direct';
      readonly target: Dial;
      readonly upstream: Workload;
      readonly service?: Service;
      readonly message: string;
    }
  | {
      readonly kind: 'hbone';
      readonly reason: 'direct' | 'workload-waypoint' | 'service-waypoint';
      /** the TLS/HBONE peer: <ip>:15008 or the waypoint's hbone port */
      readonly target: Dial;
      /** CONNECT :authority */
      readonly authority: string;
      /** server leaf must carry one of these URI SANs */
      readonly expectedIdentities: readonly string[];
      /** the destination workload (the waypoint when going through one) */
      readonly upstream: Workload;
      readonly service?: Service;
      readonly message: string;
    }
  | {
      readonly kind: 'double-hbone';
      readonly reason: 'cross-network' | 'cross-network-waypoint';
      readonly gateway: Dial;
      readonly gatewayIdentities: readonly string[];
      /** `<service hostname>:<service port>` on both the outer and the inner CONNECT */
      readonly authority: string;
      /** only the target Service's subject_alt_names */
      readonly innerIdentities: readonly string[];
      readonly upstream: Workload;
      readonly service: Service;
      readonly message: string;
    };

export type InboundDecision =
  | {
      readonly kind: 'accept';
      /** where to connect: the local pod IP and the resolved (or app-tunnel) port */
      readonly target: SocketTarget;
      /** the resolved port before an application tunnel replaced it (what RBAC sees) */
      readonly resolvedPort: number;
      readonly service?: Service;
      readonly workload: Workload;
      readonly message: string;
    }
  | {
      readonly kind: 'reject';
      readonly status: 400 | 503;
      readonly reason:
        | 'invalid-authority'
        | 'unknown-workload'
        | 'ip-mismatch'
        | 'unknown-service'
        | 'unresolved-port'
        | 'illegal-port';
      readonly message: string;
    };

export interface RouteOptions {
  /** ztunnel's own NETWORK (default: the source workload's network) */
  readonly network?: string;
  /** [0, 1) source; tests inject a seeded one. Default Math.random. */
  readonly random?: () => number;
  /** XDS_ON_DEMAND: unknown destinations yield a `lookup` decision instead of passthrough */
  readonly onDemand?: boolean;
  /** default 15001, 15006, 15008 (add 15080 when SOCKS5 is enabled) */
  readonly illegalPorts?: readonly number[];
}

export const DEFAULT_ILLEGAL_PORTS: readonly number[] = [15001, 15006, 15008];
export const HBONE_PORT = 15008;
