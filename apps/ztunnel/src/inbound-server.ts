// The inbound HBONE server (15008) as both capture modes build it: the credentials of the workload being
// reached, the inbound handler for each CONNECT, ztunnel's HTTP/2 tuning, and a failed handshake reported
// like ztunnel reports it (connection failed, TLS_FAILURE). Node mode binds one per workload IP on this
// host; in-pod mode one per pod, listening inside the pod's network namespace.
import { formatSocketAddress, type SocketAddress } from '@ambient-ts/addresses';
import { createHboneServer, type ConnectRequest, type HboneServer } from '@ambient-ts/hbone';
import type { Config } from './config.ts';
import type { Credentials } from './identity.ts';
import type { TrafficReporter } from './traffic.ts';

export interface InboundServerDeps {
  config: Pick<Config, 'tls12Enabled' | 'http2'>;
  traffic: TrafficReporter;
  /** The credentials to present for a connection arriving at `local`. */
  credentials: (local: SocketAddress) => Promise<Credentials>;
  onConnect: (request: ConnectRequest) => Promise<void>;
}

/** ztunnel's HTTP/2 settings for HBONE, from HTTP2_* (both directions). */
export function http2Tuning(config: Pick<Config, 'http2'>): {
  streamWindow: number;
  connectionWindow: number;
  maxFrameSize: number;
} {
  const { http2 } = config;
  return {
    streamWindow: http2.streamWindowSize,
    connectionWindow: http2.connectionWindowSize,
    maxFrameSize: http2.frameSize,
  };
}

export function createInboundServer(deps: InboundServerDeps): HboneServer {
  const server = createHboneServer({
    credentials: deps.credentials,
    onConnect: deps.onConnect,
    tls12: deps.config.tls12Enabled,
    http2: http2Tuning(deps.config),
  });
  server.on('connectionError', (error, remote) =>
    deps.traffic.failed(
      {
        direction: 'inbound',
        sourceAddress: formatSocketAddress(remote),
        destinationAddress: '15008',
        mutualTls: true,
      },
      error.message,
      error.code === 'TLS_HANDSHAKE_FAILED' ? 'TLS_FAILURE' : undefined,
    ),
  );
  return server;
}
