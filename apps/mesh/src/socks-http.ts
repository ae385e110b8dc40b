// HTTP requests the way a meshed pod makes them on one machine: from the pod's own IP, through its node's
// ztunnel SOCKS5 listener (the stand-in for in-pod capture).
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { socksConnect } from '@ambient-ts/socks5';

export interface Via {
  /** The ztunnel's SOCKS5 address; undefined = connect directly (an out-of-mesh client). */
  socks?: { host: string; port: number };
  /** The pod's IP, bound as source. */
  sourceIp: string;
}

/** Open a TCP connection to `host:port` as the pod would. */
export async function dial(via: Via, host: string, port: number, timeoutMs = 5000): Promise<Socket> {
  let socket: Socket;
  if (via.socks) {
    try {
      socket = await socksConnect({ proxy: via.socks, target: { host, port }, localAddress: via.sourceIp, timeoutMs });
    } catch (error) {
      throw new Error(`connection refused: ${(error as Error).message}`, { cause: error });
    }
  } else {
    socket = connect({ host, port, localAddress: via.sourceIp });
    await once(socket, 'connect');
  }
  // A probe never hangs: the whole exchange must finish within the timeout.
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)));
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
