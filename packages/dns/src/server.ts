// DNS over UDP and TCP on sockets the caller made (so shared mode can hand in sockets created inside a
// pod's network namespace): one message in, at most one message out, through `handle`. TCP is RFC 7766
// framing (2-byte length, up to 64 KiB, pipelined, answered as they complete), an idle timeout of 5 s as
// ztunnel's, and caps on connections, pipelined queries and UDP queries in flight, so a flood costs bounded
// memory: what exceeds a cap is dropped (UDP) or waits for the socket to drain (TCP), and is reported.
import type { Socket as UdpSocket, RemoteInfo } from 'node:dgram';
import type { Server as TcpServer, Socket } from 'node:net';
import type { DnsProtocol } from './model.ts';

export interface DnsRemote {
  readonly address: string;
  readonly port: number;
}

export interface DnsMessageContext {
  readonly protocol: DnsProtocol;
  readonly remote: DnsRemote;
}

/** Why the transport dropped something before it reached `handle`. */
export type TransportDrop = 'udp queries in flight' | 'tcp connections' | 'tcp idle' | 'tcp closed with queries';

export interface DnsTransportOptions {
  readonly udp?: UdpSocket;
  readonly tcp?: TcpServer;
  /** The answer to one message (undefined: send nothing). Must not throw; a rejection sends nothing. */
  handle(message: Buffer, context: DnsMessageContext): Promise<Buffer | undefined>;
  /** Default 5000 (ztunnel's TCP request timeout). */
  readonly tcpIdleTimeoutMs?: number;
  /** Default 1024. */
  readonly maxTcpConnections?: number;
  /** Queries one TCP connection may have unanswered before it stops reading. Default 32. */
  readonly maxPipelined?: number;
  /** UDP queries being answered at once; more are dropped. Default 10000. */
  readonly maxUdpInFlight?: number;
  onDrop?(reason: TransportDrop, remote: DnsRemote): void;
}

export interface DnsTransport {
  /** Stop reading and accepting; open TCP connections are closed. The sockets are closed too. */
  close(): Promise<void>;
  readonly stats: { readonly udpInFlight: number; readonly tcpConnections: number };
}

export function serveDns(options: DnsTransportOptions): DnsTransport {
  const connections = new Set<Socket>();
  let udpInFlight = 0;
  const maxUdp = options.maxUdpInFlight ?? 10_000;
  const drop = (reason: TransportDrop, remote: DnsRemote): void => options.onDrop?.(reason, remote);

  const udp = options.udp;
  udp?.on('message', (message: Buffer, remote: RemoteInfo) => {
    if (udpInFlight >= maxUdp) return drop('udp queries in flight', remote);
    udpInFlight++;
    options
      .handle(message, { protocol: 'udp', remote: { address: remote.address, port: remote.port } })
      .then(
        (response) => {
          if (!response) return;
          try {
            udp.send(response, remote.port, remote.address, () => {});
          } catch {
            // closed while answering
          }
        },
        () => {},
      )
      .finally(() => udpInFlight--);
  });
  udp?.on('error', () => {});

  const tcp = options.tcp;
  tcp?.on('connection', (socket: Socket) => {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    socket.on('error', () => {});
    if (connections.size >= (options.maxTcpConnections ?? 1024)) {
      drop('tcp connections', remote);
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveTcpConnection(socket, remote, options, drop);
  });
  tcp?.on('error', () => {});

  return {
    stats: {
      get udpInFlight() {
        return udpInFlight;
      },
      get tcpConnections() {
        return connections.size;
      },
    },
    async close() {
      const closing: Promise<void>[] = [];
      if (udp) closing.push(new Promise((resolve) => udp.close(() => resolve())));
      if (tcp) closing.push(new Promise((resolve) => tcp.close(() => resolve())));
      for (const socket of connections) socket.destroy();
      await Promise.all(closing.map((promise) => promise.catch(() => {})));
    },
  };
}

function serveTcpConnection(
  socket: Socket,
  remote: DnsRemote,
  options: DnsTransportOptions,
  drop: (reason: TransportDrop, remote: DnsRemote) => void,
): void {
  const maxPipelined = options.maxPipelined ?? 32;
  let buffered: Buffer = Buffer.alloc(0);
  let unanswered = 0;
  let ended = false;
  socket.setTimeout(options.tcpIdleTimeoutMs ?? 5000, () => {
    drop('tcp idle', remote);
    socket.destroy();
  });
  socket.on('end', () => {
    ended = true;
    if (unanswered === 0) socket.end();
  });
  socket.on('close', () => {
    if (unanswered > 0) drop('tcp closed with queries', remote);
  });
  const take = (): void => {
    while (buffered.length >= 2 && unanswered < maxPipelined) {
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) break;
      const message = Buffer.from(buffered.subarray(2, 2 + length));
      buffered = buffered.subarray(2 + length);
      unanswered++;
      void options
        .handle(message, { protocol: 'tcp', remote })
        .then(
          (response) => {
            if (!response || socket.destroyed) return;
            const frame = Buffer.alloc(2 + response.length);
            frame.writeUInt16BE(response.length, 0);
            response.copy(frame, 2);
            socket.write(frame);
          },
          () => {},
        )
        .finally(() => {
          unanswered--;
          if (socket.isPaused() && unanswered < maxPipelined) {
            socket.resume();
            take();
          }
          if (ended && unanswered === 0 && buffered.length < 2) socket.end();
        });
    }
    if (unanswered >= maxPipelined) socket.pause();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    take();
  });
}
