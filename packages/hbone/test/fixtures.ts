// Shared test fixtures: servers and pools on port 0 that are closed after each test, and small stream and
// timing helpers (identities are in pki.ts).
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach } from 'vitest';
import {
  createHboneServer,
  HbonePool,
  type ConnectRequest,
  type HboneServer,
  type HboneServerOptions,
} from '../src/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];

/** Run after the current test (servers, pools, sockets). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An HBONE server on 127.0.0.1:0, closed after the test. */
export async function startServer(
  options: Partial<HboneServerOptions> & Pick<HboneServerOptions, 'credentials'>,
): Promise<{ server: HboneServer; port: number }> {
  const server = createHboneServer({ onConnect: echo, ...options });
  onCleanup(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

export function newPool(options?: ConstructorParameters<typeof HbonePool>[0]): HbonePool {
  const pool = new HbonePool(options);
  onCleanup(() => pool.close());
  return pool;
}

/** onConnect that accepts and echoes, honouring half-close. */
export function echo(request: ConnectRequest): void {
  const { stream } = request.accept();
  stream.pipe(stream);
}

/** A plain TCP server, closed after the test. */
export async function startTcp(handler: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    handler(socket);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Read a stream to its end. */
export async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Wait until `check` is true (event-driven code under load: poll instead of sleeping a fixed time). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
