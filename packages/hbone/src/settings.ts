// ztunnel's HTTP/2 and socket parameters (facts §1.4, §1.7), and the node:http2 options that apply them.
// Node's defaults are unsafe for a tunnel endpoint (unlimited streams, 64 KiB windows), so every
// value that matters is set explicitly here.
import type { ClientSessionOptions, ServerOptions, Settings } from 'node:http2';
import { HboneError } from './errors.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export const HBONE_DEFAULTS = {
  streamWindow: 4 * MiB,
  connectionWindow: 16 * MiB,
  maxFrameSize: 1 * MiB,
  serverMaxConcurrentStreams: 200,
  serverMaxHeaderListSize: 64 * KiB,
  clientMaxHeaderListSize: 16 * KiB,
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 20_000,
  poolMaxStreamsPerConnection: 100,
  poolIdleReleaseMs: 5 * 60_000,
  connectTimeoutMs: 10_000,
  tcpKeepaliveIdleMs: 180_000,
  handshakeTimeoutMs: 10_000,
  headerTimeoutMs: 10_000,
  /** Bytes a connection may make us hold in tunnels whose consumer is not reading (see server-guard.ts). */
  maxBufferedPerConnection: 32 * MiB,
} as const;

/** HTTP/2 knobs both ends accept as overrides. */
export interface Http2Tuning {
  streamWindow?: number;
  connectionWindow?: number;
  maxFrameSize?: number;
}

export interface KeepaliveOptions {
  /** PING after this much time; 0 disables keepalive. Default 10 s. */
  intervalMs?: number;
  /** Close the connection when a PING is unanswered this long. Default 20 s. */
  timeoutMs?: number;
}

export function checkInteger(value: unknown, name: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new HboneError('INVALID_OPTIONS', `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

export function checkTuning(tuning: Http2Tuning | undefined, where: string): Required<Http2Tuning> {
  checkInteger(tuning?.streamWindow, `${where}.streamWindow`, 65_535, 2 ** 31 - 1);
  checkInteger(tuning?.connectionWindow, `${where}.connectionWindow`, 65_535, 2 ** 31 - 1);
  checkInteger(tuning?.maxFrameSize, `${where}.maxFrameSize`, 16_384, 16_777_215);
  return {
    streamWindow: tuning?.streamWindow ?? HBONE_DEFAULTS.streamWindow,
    connectionWindow: tuning?.connectionWindow ?? HBONE_DEFAULTS.connectionWindow,
    maxFrameSize: tuning?.maxFrameSize ?? HBONE_DEFAULTS.maxFrameSize,
  };
}

export function checkKeepalive(keepalive: KeepaliveOptions | undefined, where: string): Required<KeepaliveOptions> {
  checkInteger(keepalive?.intervalMs, `${where}.intervalMs`, 0, 2 ** 31 - 1);
  checkInteger(keepalive?.timeoutMs, `${where}.timeoutMs`, 1, 2 ** 31 - 1);
  return {
    intervalMs: keepalive?.intervalMs ?? HBONE_DEFAULTS.keepaliveIntervalMs,
    timeoutMs: keepalive?.timeoutMs ?? HBONE_DEFAULTS.keepaliveTimeoutMs,
  };
}

/** Node's nghttp2 limits for a server facing untrusted peers (users-reliability B5). */
export function serverHttp2Options(tuning: Required<Http2Tuning>, maxConcurrentStreams: number): ServerOptions {
  const settings: Settings = {
    initialWindowSize: tuning.streamWindow,
    maxFrameSize: tuning.maxFrameSize,
    maxConcurrentStreams,
    maxHeaderListSize: HBONE_DEFAULTS.serverMaxHeaderListSize,
    enablePush: false,
    enableConnectProtocol: false,
  };
  return {
    settings,
    // HBONE requests carry a handful of headers; 64 pairs is generous and caps HPACK bombs.
    maxHeaderListPairs: 64,
    maxSettings: 32,
    maxOutstandingPings: 10,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    // MB; new streams are refused with ENHANCE_YOUR_CALM above it (buffered DATA counts).
    maxSessionMemory: 64,
    peerMaxConcurrentStreams: 100,
    unknownProtocolTimeout: HBONE_DEFAULTS.handshakeTimeoutMs,
    maxSendHeaderBlockLength: 16 * KiB,
  };
}

export function clientHttp2Options(tuning: Required<Http2Tuning>): ClientSessionOptions {
  return {
    settings: {
      initialWindowSize: tuning.streamWindow,
      maxFrameSize: tuning.maxFrameSize,
      maxHeaderListSize: HBONE_DEFAULTS.clientMaxHeaderListSize,
      enablePush: false,
    },
    maxHeaderListPairs: 64,
    maxSettings: 32,
    maxOutstandingPings: 10,
    maxSessionMemory: 64,
    maxReservedRemoteStreams: 0,
  };
}
