// The client side: connect through a SOCKS5 listener (ztunnel's 15080) from a chosen source IP — on one
// machine the source IP is how ztunnel knows which workload is calling.
import { connect, isIPv4, type Socket } from 'node:net';
import { once } from 'node:events';

export interface SocksConnectOptions {
  proxy: { host: string; port: number };
  target: { host: string; port: number };
  /** Source IP to bind (the workload calling). */
  localAddress?: string;
  /** Whole-handshake timeout. Default 10 s. */
  timeoutMs?: number;
}

/** What each failure reply means for a ztunnel client. */
export const socksReplyMeaning: Record<number, string> = {
  1: 'general failure',
  2: 'not allowed (unknown source workload, or a call to the proxy itself)',
  3: 'network unreachable',
  4: 'host unreachable (no healthy upstream, unknown waypoint or gateway)',
  5: 'refused (policy, TLS, identity or upstream failure)',
  7: 'command not supported',
  8: 'address type not supported',
};

/** A failed SOCKS5 CONNECT; `reply` is the proxy's reply code. */
export class SocksConnectError extends Error {
  readonly code = 'SOCKS5_CONNECT_FAILED';
  readonly reply: number;
  constructor(reply: number) {
    super(`SOCKS5 connect failed: ${socksReplyMeaning[reply] ?? `reply ${reply}`}`);
    this.name = 'SocksConnectError';
    this.reply = reply;
  }
}

async function readExactly(socket: Socket, size: number): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(size) as Buffer | null;
    if (chunk) return chunk;
    if (socket.readableEnded || socket.destroyed) throw new Error('socks proxy closed the connection');
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
}

/** Resolves with the connected socket once the proxy answered success; rejects with `SocksConnectError`. */
export async function socksConnect(options: SocksConnectOptions): Promise<Socket> {
  const socket = connect({
    host: options.proxy.host,
    port: options.proxy.port,
    noDelay: true,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`SOCKS5 handshake timed out after ${timeoutMs} ms`)));
  await once(socket, 'connect'); // rejects with the socket's error (e.g. ECONNREFUSED)
  socket.pause();
  socket.write(Buffer.from([0x05, 0x01, 0x00]));
  const greeting = await readExactly(socket, 2);
  if (greeting[1] !== 0x00) {
    socket.destroy();
    throw new Error(`the SOCKS5 proxy refused the "no authentication" method (answer ${greeting[1]})`);
  }
  const { host, port } = options.target;
  const address = isIPv4(host)
    ? Buffer.from([0x01, ...host.split('.').map(Number)])
    : Buffer.concat([Buffer.from([0x03, Buffer.byteLength(host)]), Buffer.from(host)]);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address, portBytes]));
  const reply = await readExactly(socket, 10);
  if (reply[1] !== 0x00) {
    socket.destroy();
    throw new SocksConnectError(reply[1]!);
  }
  socket.setTimeout(0);
  socket.resume();
  return socket;
}
