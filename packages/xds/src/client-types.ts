// Public types of the delta xDS client: options, handler interface, state, hooks.
import type * as grpc from '@grpc/grpc-js';
import type { XdsNode, XdsResource } from '@ambient-ts/istio-api';

/** One response of one type, as the handler sees it. */
export interface XdsTypeUpdate {
  readonly typeUrl: string;
  readonly resources: readonly XdsResource[];
  readonly removed: readonly string[];
}

export interface XdsRejection {
  readonly name: string;
  readonly reason: string;
}

/** Applies one type's updates (e.g. into the store); returns the resources it rejected. */
export interface XdsHandler {
  handle(
    update: XdsTypeUpdate,
  ): { readonly rejected?: readonly XdsRejection[] } | Promise<{ readonly rejected?: readonly XdsRejection[] }>;
}

export type XdsTerminationReason = 'ConnectionError' | 'Error' | 'Reconnect' | 'Complete';

export type XdsClientState =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'connected'; readonly since: number }
  | { readonly state: 'backoff'; readonly attempt: number; readonly delayMs: number; readonly lastError: string }
  | { readonly state: 'closed' };

/** Callbacks for metrics (istio_xds_*) and logs; the app owns the prom-client objects. */
export interface XdsClientHooks {
  onStateChange?(state: XdsClientState): void;
  /** istio_xds_connection_terminations_total{reason} */
  onConnectionTermination?(reason: XdsTerminationReason, detail: string): void;
  /** istio_xds_message_total{url} += 1 and istio_xds_message_bytes_total{url} += bytes, per response */
  onMessage?(typeUrl: string, bytes: number): void;
  onAck?(typeUrl: string, nonce: string): void;
  onNack?(typeUrl: string, nonce: string, message: string): void;
}

export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface XdsClientOptions {
  /** `https://host:port` (TLS) or `http://host:port` (plaintext); no scheme means https */
  readonly address: string;
  /** for https: a file path (re-read on every connect), 'SYSTEM' for the OS roots, or inline PEM */
  readonly rootCert?: string;
  /** bearer token: a literal, or a function called on every (re)connect */
  readonly token?: TokenSource;
  /** sent as the `clusterid` header */
  readonly clusterId?: string;
  /** node id and metadata as ztunnel sends them (see ztunnelNode) */
  readonly node: XdsNode;
  /** one handler per type URL; each is subscribed (wildcard unless on demand) */
  readonly handlers: Readonly<Record<string, XdsHandler>>;
  /** type URLs fetched only on demand (Address with XDS_ON_DEMAND) */
  readonly onDemandTypes?: readonly string[];
  /** extra gRPC metadata (XDS_HEADER_*) */
  readonly headers?: Readonly<Record<string, string>>;
  /** name to verify the server certificate against (ALT_XDS_HOSTNAME) */
  readonly serverName?: string;
  /** reconnect backoff: doubling from initialMs (10) to maxMs (15000) */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** connect timeout, default 5000 ms */
  readonly connectTimeoutMs?: number;
  readonly hooks?: XdsClientHooks;
  readonly channelOptions?: grpc.ChannelOptions;
}

export type DemandResult = 'received' | 'removed' | 'timeout' | 'closed';

/** Counters kept by the client (also fed to hooks). */
export interface XdsClientCounters {
  readonly terminations: Readonly<Record<XdsTerminationReason, number>>;
  readonly messages: Readonly<Record<string, number>>;
  readonly messageBytes: Readonly<Record<string, number>>;
}
