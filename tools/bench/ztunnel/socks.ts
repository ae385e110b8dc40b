// A minimal SOCKS5 client (copied from apps/ztunnel/test/helpers/socks-client.ts): connect through a ztunnel's SOCKS5
// listener from a chosen source IP.
import { connect, isIPv4, type Socket } from 'node:net';
import { once } from 'node:events';

export interface SocksConnectOptions {
  proxy: { host: string; port: number };
  target: { host: string; port: number };
  /** Source IP to bind (the workload we pretend to be). */
  localAddress?: string;
}

async function readExactly(socket: Socket, size: number): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read(size) as Buffer | null;
    if (chunk) return chunk;
    if (socket.readableEnded || socket.destroyed) throw new Error('socks proxy closed the connection');
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
}

/** Resolves with the connected socket once the proxy answered success; rejects with the reply code. */
export async function socksConnect(options: SocksConnectOptions): Promise<Socket> {
  const socket = connect({
    host: options.proxy.host,
    port: options.proxy.port,
    noDelay: true,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  await once(socket, 'connect');
  socket.pause();
  socket.write(Buffer.from([0x05, 0x01, 0x00]));
  const greeting = await readExactly(socket, 2);
  if (greeting[1] !== 0x00) throw new Error(`socks method refused: ${greeting[1]}`);
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
    throw Object.assign(new Error(`socks connect failed with reply ${reply[1]}`), { reply: reply[1] });
  }
  socket.resume();
  return socket;
}
