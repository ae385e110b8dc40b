// Binding a DNS address: a UDP socket and a TCP server on the same host and port (port 0: one free port
// for both, as dig and resolvers expect TCP where UDP is).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server as TcpServer } from 'node:net';

export interface DnsSockets {
  readonly udp: UdpSocket;
  readonly tcp: TcpServer;
  readonly host: string;
  readonly port: number;
}

function listenTcp(server: TcpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: isIPv6(host) }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * Bind UDP and TCP on `host:port`. With port 0 the TCP port is chosen first and UDP takes the same number,
 * retried with a new port when that UDP port is taken. Rejects with the bind error (EADDRINUSE, …).
 */
export async function bindDnsSockets(host: string, port: number): Promise<DnsSockets> {
  for (let tries = 0; ; tries++) {
    const tcp = createServer({ pauseOnConnect: false });
    await listenTcp(tcp, host, port);
    const bound = (tcp.address() as AddressInfo).port;
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(host) });
    try {
      await bindUdp(udp, host, bound);
      return { udp, tcp, host, port: bound };
    } catch (error) {
      udp.close();
      await new Promise((resolve) => tcp.close(resolve));
      if (port !== 0 || tries >= 20 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}
