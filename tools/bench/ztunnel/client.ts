// The client workload's load generators. Every path opens its sockets through an `Opener`: direct TCP
// from the client's pod IP, SOCKS5 through ztunnel A from that IP, or the stunnel client's entry port.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Service } from './apps.ts';
import { receiveUntilEnd, sinkHeader, writeFor, type Transfer } from '../hbone/load.ts';

export type { Transfer } from '../hbone/load.ts';

export type Opener = (service: Service) => Promise<Socket>;

export function tcpOpener(target: { host: string; ports: Record<Service, number> }, localAddress?: string): Opener {
  return async (service) => {
    const socket = connect({
      host: target.host,
      port: target.ports[service],
      noDelay: true,
      allowHalfOpen: true,
      ...(localAddress ? { localAddress } : {}),
    });
    await once(socket, 'connect');
    return socket;
  };
}

async function ended(socket: Socket): Promise<void> {
  if (socket.readableEnded) return;
  await Promise.race([once(socket, 'end'), once(socket, 'close')]);
}

/** Stream 256 KiB writes for `ms`, half-close; the sink's byte count over the sink's clock. */
export async function upload(open: Opener, ms: number): Promise<Transfer> {
  const socket = await open('sink');
  socket.allowHalfOpen = true;
  const reply: Buffer[] = [];
  socket.on('data', (data: Buffer) => reply.push(data));
  socket.write(sinkHeader('U', ms));
  await writeFor(socket, ms);
  socket.end();
  await ended(socket);
  socket.destroy();
  return JSON.parse(Buffer.concat(reply).toString()) as Transfer;
}

/** Ask the sink to stream for `ms`; count what arrives between the first byte and EOF. */
export async function download(open: Opener, ms: number): Promise<Transfer> {
  const socket = await open('sink');
  const received = receiveUntilEnd(socket);
  socket.write(sinkHeader('D', ms));
  return received;
}

export interface RateResult {
  count: number;
  errors: number;
  perSecond: number;
  firstError?: string;
}

/** `concurrency` loops of: new connection, 1 byte out, 1 byte back, the server closes. */
export async function connectionRate(open: Opener, concurrency: number, ms: number): Promise<RateResult> {
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const one = async (): Promise<void> => {
    const socket = await open('echo');
    socket.allowHalfOpen = false;
    socket.setTimeout(10_000, () => socket.destroy(new Error('no echo within 10 s')));
    const closed = once(socket, 'close');
    closed.catch(() => {});
    const data = once(socket, 'data');
    socket.write('x');
    try {
      await data;
      await closed;
    } finally {
      socket.destroy();
    }
  };
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await one();
          count++;
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
          if (errors > 1000) return;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { count, errors, perSecond: count / seconds, ...(firstError ? { firstError } : {}) };
}
