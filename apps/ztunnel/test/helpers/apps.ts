// Stand-ins for applications behind and in front of a ztunnel: TCP servers and a write-then-read client.
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createHboneServer, type HboneServer } from '@ambient-ts/hbone';
import { testCa } from './harness.ts';

/** An application: echoes every read twice (like ztunnel's ReadDoubleWrite test server), or answers a marker. */
export async function startEchoServer(host: string, port: number, mode: 'double' | 'echo' = 'double'): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      socket.write(chunk);
      if (mode === 'double') socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  server.listen({ host, port });
  await once(server, 'listening');
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Write, half-close, and collect everything until the peer ends. */
export async function roundTrip(socket: Socket, payload: string): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.end(payload);
  await once(socket, 'close');
  return received;
}

export interface FakeWaypoint {
  server: HboneServer;
  /** Every CONNECT received: its authority and the peer's SPIFFE identity. */
  seen: { authority: string; peer: string }[];
}

/**
 * A fake waypoint, as in ztunnel's tests: HBONE with the test CA's certificate for `identity`; on every CONNECT
 * it answers 200, writes `waypoint\n`, then echoes. `listen` is an address or a listening fd.
 */
export async function startFakeWaypoint(
  identity: string,
  listen: { host: string; port: number } | { fd: number },
): Promise<FakeWaypoint> {
  const certificate = await (await testCa()).fetchCertificate(identity);
  const seen: FakeWaypoint['seen'] = [];
  const server = createHboneServer({
    credentials: () => certificate,
    onConnect: (request) => {
      seen.push({ authority: request.rawAuthority, peer: request.peerIdentity });
      const tunnel = request.accept();
      tunnel.stream.write('waypoint\n');
      tunnel.stream.pipe(tunnel.stream);
    },
  });
  await server.listen(listen);
  return { server, seen };
}
