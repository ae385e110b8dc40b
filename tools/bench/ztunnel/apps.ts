// The server workload's three applications, all on its pod IP:
//  - sink: the throughput protocol of tools/bench/hbone/load.ts (its serveSink) (5-byte header 'U'|'D' + duration in ms,
//    uint32 BE; upload is counted and answered as JSON after the client's half-close, download streams
//    256 KiB writes for the duration and closes);
//  - rr: request/response, every 1 KiB received is answered with 1 KiB (keep-alive, one in flight);
//  - echo: echoes the first bytes and closes first, so TIME_WAIT stays on the accepting side and the
//    client's bound source ports do not run out during the connection-rate rows.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { serveSink } from '../hbone/load.ts';

export const MESSAGE = 1024;
const response = Buffer.alloc(MESSAGE, 0x62);

function rr(socket: Socket): void {
  let pending = 0;
  socket.on('data', (data: Buffer) => {
    pending += data.length;
    while (pending >= MESSAGE) {
      pending -= MESSAGE;
      socket.write(response);
    }
  });
  socket.on('end', () => socket.end());
}

function echo(socket: Socket): void {
  socket.once('data', (data: Buffer) => socket.end(data));
}

async function listen(host: string, handler: (socket: Socket) => void): Promise<Server> {
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    handler(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, backlog: 4096 }, resolve);
  });
  return server;
}

export type Service = 'sink' | 'rr' | 'echo';
export type Ports = Record<Service, number>;

export async function startApps(host: string): Promise<Ports> {
  const port = (server: Server): number => (server.address() as AddressInfo).port;
  return {
    sink: port(await listen(host, serveSink)),
    rr: port(await listen(host, rr)),
    echo: port(await listen(host, echo)),
  };
}
