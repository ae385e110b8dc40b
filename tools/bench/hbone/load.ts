// Load generator and sink for the throughput rows. A client sends a 5-byte header ('U' or 'D' plus the
// duration in ms, uint32 BE). Upload: the client streams 256 KiB writes, half-closes, and the sink
// answers what it received and over how long. Download: the sink streams for the duration and closes.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export const chunk = Buffer.alloc(256 * 1024, 0x61);

export interface Transfer {
  bytes: number;
  ms: number;
}

/** The sink side of the throughput protocol (shared with tools/bench/ztunnel). */
export function serveSink(socket: Socket): void {
  let header = Buffer.alloc(0);
  let bytes = 0;
  let first = 0;
  let last = 0;
  const onData = (data: Buffer): void => {
    if (header.length < 5) {
      header = Buffer.concat([header, data]);
      if (header.length < 5) return;
      const mode = String.fromCharCode(header[0]!);
      const ms = header.readUInt32BE(1);
      const rest = header.subarray(5);
      if (mode === 'D') {
        socket.off('data', onData);
        socket.resume();
        pump(socket, ms);
        return;
      }
      data = rest;
    }
    if (data.length === 0) return;
    if (first === 0) first = performance.now();
    last = performance.now();
    bytes += data.length;
  };
  socket.on('data', onData);
  socket.on('end', () => {
    if (header.length >= 5 && header[0] === 0x55) socket.end(JSON.stringify({ bytes, ms: last - first }));
  });
  socket.on('error', () => socket.destroy());
}

/** Write 256 KiB chunks with backpressure for `ms`, then resolve (the caller ends or half-closes). */
export function writeFor(socket: Socket, ms: number): Promise<void> {
  const end = performance.now() + ms;
  return new Promise((resolve) => {
    const write = (): void => {
      while (performance.now() < end) {
        if (!socket.write(chunk)) {
          socket.once('drain', write);
          return;
        }
      }
      resolve();
    };
    write();
  });
}

function pump(socket: Socket, ms: number): void {
  void writeFor(socket, ms).then(() => socket.end());
}

/** The 5-byte request: 'U' (upload) or 'D' (download) and the duration in ms, uint32 BE. */
export function sinkHeader(mode: 'U' | 'D', ms: number): Buffer {
  const header = Buffer.alloc(5);
  header.write(mode, 0);
  header.writeUInt32BE(ms, 1);
  return header;
}

export function runSink(): Promise<AddressInfo> {
  const server = createServer({ noDelay: true, allowHalfOpen: true }, serveSink);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
}

function open(port: number, mode: 'U' | 'D', ms: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.write(sinkHeader(mode, ms));
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Stream for `ms` into `port`; the sink's count over the sink's clock. */
export async function upload(port: number, ms: number): Promise<Transfer> {
  const socket = await open(port, 'U', ms);
  await writeFor(socket, ms);
  socket.end();
  const reply: Buffer[] = [];
  socket.on('data', (data: Buffer) => reply.push(data));
  await new Promise<void>((resolve, reject) => {
    socket.once('end', resolve);
    socket.once('error', reject);
  });
  socket.destroy();
  return JSON.parse(Buffer.concat(reply).toString()) as Transfer;
}

/** Ask the sink to stream for `ms`; count what arrives between the first byte and EOF. */
export async function download(port: number, ms: number): Promise<Transfer> {
  return receiveUntilEnd(await open(port, 'D', ms));
}

/** Count what arrives on `socket` between the first byte and EOF, then destroy it. */
export async function receiveUntilEnd(socket: Socket): Promise<Transfer> {
  let bytes = 0;
  let first = 0;
  let last = 0;
  socket.on('data', (data: Buffer) => {
    if (first === 0) first = performance.now();
    last = performance.now();
    bytes += data.length;
  });
  await new Promise<void>((resolve, reject) => {
    if (socket.readableEnded) return resolve();
    socket.once('end', resolve);
    socket.once('close', resolve);
    socket.once('error', reject);
  });
  socket.destroy();
  return { bytes, ms: last - first };
}

export function gbps(transfer: Transfer): number {
  return (transfer.bytes * 8) / (transfer.ms * 1e6);
}
