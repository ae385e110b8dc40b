// Dialing one HBONE connection: TCP (10 s timeout, TCP_NODELAY, keepalive) → TLS with our workload
// certificate, no SNI, ALPN h2, and the server's SPIFFE identity checked in place of its host name →
// HTTP/2 with ztunnel's settings, ready once the server's SETTINGS arrived.
import { connect as h2Connect, type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { formatSocketAddress } from '@ambient-ts/addresses';
import { HboneConnection } from './client-connection.ts';
import { HboneError, type HboneErrorCode } from './errors.ts';
import { startKeepalive } from './keepalive.ts';
import { verifyServerPeer, type PeerExpectation } from './peer-verify.ts';
import { checkKeepalive, checkTuning, clientHttp2Options, HBONE_DEFAULTS } from './settings.ts';
import { defaultSocketFactory, type SocketFactory } from './socket-factory.ts';
import type { Http2Tuning, KeepaliveOptions } from './settings.ts';
import { CredentialInfo, type TlsCredentials } from './tls-config.ts';

export interface DialOptions {
  /** TCP target, e.g. podIP:15008 or a waypoint's address. */
  address: { host: string; port: number };
  /** Our workload certificate (the source identity). */
  credentials: TlsCredentials;
  expect: PeerExpectation;
  /** Local IP to dial from. */
  sourceIp?: string;
  /** For the whole dial (TCP, TLS, SETTINGS). Default 10 s. */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  tls12?: boolean;
  http2?: Http2Tuning;
  keepalive?: KeepaliveOptions;
  /** Run TLS over this stream instead of dialing TCP (the inner hop of double HBONE). */
  transport?: Duplex;
  /** Creates the TCP socket (e.g. inside a pod's network namespace); default node:net's connect. */
  socketFactory?: SocketFactory;
}

type Phase = 'tcp' | 'tls' | 'h2';

const timeoutCode: Record<Phase, HboneErrorCode> = {
  tcp: 'CONNECT_TIMEOUT',
  tls: 'TLS_HANDSHAKE_FAILED',
  h2: 'H2_HANDSHAKE_FAILED',
};

/**
 * Dial one HBONE connection. Rejects with a typed `HboneError` naming the phase that failed.
 * `credentialInfo` (internal) is the caller's cached TLS state for `options.credentials` — the pool passes
 * its own; without it the state is built for this dial.
 */
export async function dialHbone(options: DialOptions, credentialInfo?: CredentialInfo): Promise<HboneConnection> {
  const tuning = checkTuning(options.http2, 'http2');
  const keepalive = checkKeepalive(options.keepalive, 'keepalive');
  const info = credentialInfo ?? new CredentialInfo(options.credentials, options.tls12 ?? false);
  const target = formatSocketAddress({ address: options.address.host, port: options.address.port });
  const timeoutMs = options.connectTimeoutMs ?? HBONE_DEFAULTS.connectTimeoutMs;
  let phase: Phase = 'tcp';
  let failure: HboneError | undefined;
  let current: { destroy(): void } | undefined;
  const fail = (error: HboneError): void => {
    failure ??= error;
    current?.destroy();
  };
  const timer = setTimeout(() => {
    const hint = phase === 'tcp' ? ', maybe a NetworkPolicy is blocking HBONE port 15008' : '';
    fail(
      new HboneError(
        timeoutCode[phase],
        `${phase} phase of the HBONE dial to ${target} timed out after ${timeoutMs} ms${hint}`,
      ),
    );
  }, timeoutMs);
  const onAbort = (): void =>
    fail(new HboneError('ABORTED', `the HBONE dial to ${target} was aborted`, { cause: options.signal?.reason }));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let transport: Socket | Duplex;
    if (options.transport) {
      transport = options.transport;
    } else {
      const factory = options.socketFactory ?? defaultSocketFactory;
      let socket: Socket;
      try {
        socket = factory({
          host: options.address.host,
          port: options.address.port,
          ...(options.sourceIp === undefined ? {} : { localAddress: options.sourceIp }),
        });
      } catch (error) {
        throw new HboneError('CONNECT_FAILED', `TCP connect to ${target} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      socket.setNoDelay(true);
      socket.setKeepAlive(true, HBONE_DEFAULTS.tcpKeepaliveIdleMs);
      current = socket;
      if (failure) socket.destroy();
      await waitFor(
        socket,
        'connect',
        () => failure,
        (error) =>
          new HboneError('CONNECT_FAILED', `TCP connect to ${target} failed: ${error.message}`, { cause: error }),
      );
      transport = socket;
    }
    phase = 'tls';
    let matched = '';
    const tls: TLSSocket = tlsConnect({
      socket: transport,
      secureContext: info.clientContext(),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: true,
      // The host name means nothing here: the SPIFFE identity check replaces it.
      checkServerIdentity: (_host, certificate) => {
        try {
          matched = verifyServerPeer(certificate, info, options.expect);
          return undefined;
        } catch (error) {
          return error as Error;
        }
      },
    });
    current = tls;
    if (failure) tls.destroy();
    await waitFor(
      tls,
      'secureConnect',
      () => failure,
      (error) =>
        HboneError.isHboneError(error)
          ? error
          : new HboneError('TLS_HANDSHAKE_FAILED', `TLS handshake with ${target} failed: ${error.message}`, {
              cause: error,
            }),
    );
    if (tls.alpnProtocol !== 'h2') {
      tls.destroy();
      throw new HboneError('ALPN_NOT_H2', `${target} negotiated ALPN ${JSON.stringify(tls.alpnProtocol)}, not h2`);
    }
    phase = 'h2';
    const session = h2Connect(`https://${target}`, { ...clientHttp2Options(tuning), createConnection: () => tls });
    current = session;
    if (failure) session.destroy();
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(tuning.connectionWindow);
      } catch {
        // Closed meanwhile; the wait below reports it.
      }
    });
    await waitFor(
      session,
      'remoteSettings',
      () => failure,
      (error) =>
        new HboneError('H2_HANDSHAKE_FAILED', `HTTP/2 setup with ${target} failed: ${error.message}`, { cause: error }),
    );
    const connection = new HboneConnection(session as ClientHttp2Session, matched);
    startKeepalive(session, keepalive, () =>
      session.destroy(
        new HboneError('KEEPALIVE_TIMEOUT', `${target} did not answer PING within ${keepalive.timeoutMs} ms`),
      ),
    );
    return connection;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Resolve on `event`; reject on error/close with the recorded failure or a mapped error. */
function waitFor(
  emitter: NodeJS.EventEmitter,
  event: string,
  failure: () => HboneError | undefined,
  mapError: (error: Error) => HboneError,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      emitter.off(event, onEvent);
      emitter.off('error', onError);
      emitter.off('close', onClose);
    };
    const onEvent = (): void => {
      cleanup();
      const failed = failure();
      if (failed) reject(failed);
      else resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      emitter.on('error', () => {});
      reject(failure() ?? mapError(error));
    };
    const onClose = (): void => {
      cleanup();
      reject(failure() ?? mapError(new Error('the connection closed')));
    };
    emitter.once(event, onEvent);
    emitter.on('error', onError);
    emitter.once('close', onClose);
  });
}
