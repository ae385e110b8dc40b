// HTTP requests the way a meshed pod makes them on one machine: from the pod's own IP, through its node's
// ztunnel SOCKS5 listener (the stand-in for in-pod capture).
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, isIPv4, type Socket } from 'node:net';

export interface Via {
  /** The ztunnel's SOCKS5 address; undefined = connect directly (an out-of-mesh client). */
  socks?: { host: string; port: number };
  /** The pod's IP, bound as source. */
  sourceIp: string;
}

async function readExactly(socket: Socket, size: number): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(size) as Buffer | null;
    if (chunk) return chunk;
    if (socket.readableEnded || socket.destroyed) throw new Error('the ztunnel closed the SOCKS5 connection');
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
}

const socksReplies: Record<number, string> = {
  1: 'general failure',
  2: 'not allowed by ztunnel (unknown source or recursive call)',
  4: 'host unreachable (no healthy upstream or unknown waypoint)',
  5: 'refused (policy, TLS or upstream failure)',
};

/** Open a TCP connection to `host:port` as the pod would. */
export async function dial(via: Via, host: string, port: number, timeoutMs = 5000): Promise<Socket> {
  const target = via.socks ?? { host, port };
  const socket = connect({ host: target.host, port: target.port, localAddress: via.sourceIp });
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)));
  await Promise.race([
    once(socket, 'connect'),
    once(socket, 'error').then(([error]) => Promise.reject(error as Error)),
  ]);
  if (!via.socks) return socket;
  socket.pause();
  socket.write(Buffer.from([0x05, 0x01, 0x00]));
  await readExactly(socket, 2);
  const address = isIPv4(host)
    ? Buffer.from([0x01, ...host.split('.').map(Number)])
    : Buffer.concat([Buffer.from([0x03, host.length]), Buffer.from(host)]);
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address, portBytes]));
  const reply = await readExactly(socket, 10);
  if (reply[1] !== 0) {
    socket.destroy();
    throw new Error(`connection refused: ${socksReplies[reply[1]!] ?? `SOCKS5 reply ${reply[1]}`}`);
  }
  socket.resume();
  return socket;
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP/1.1 request over a fresh connection. Rejects when the connection fails or is reset. */
export async function httpGet(
  via: Via,
  host: string,
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const socket = await dial(via, host, port);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { createConnection: () => socket, host, port, path, headers: { connection: 'close', ...headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
        response.on('error', reject);
      },
    );
    request.on('error', (error) => reject(new Error(`connection reset or closed: ${error.message}`)));
    request.end();
  });
}
