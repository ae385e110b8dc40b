// Applications of the netns scenario tier, run in this process but with their sockets made inside a pod's
// network namespace by @ambient-ts/netns (the same kernel path as a program started there: the pod's routes,
// its iptables capture, its source address). Servers record who connected (the app's view of the client IP);
// clients are plain unmarked sockets, so the pod's in-pod rules capture them like any unmodified program.
// Also a fake HBONE waypoint (an uncaptured pod on [::]:15008 with a certificate from the test CA, writing a
// marker) and a raw HBONE client in a pod, to probe ztunnel's status codes (facts §9.4 "Test servers/clients").
//
//   const apps = new PodApps();
//   const echo = await apps.server(mesh.workload('server').pod, 8080, 'double');
//   expect(await apps.exchange(mesh.workload('client').pod, { host: serverIp, port: 8080 }, 'hi')).toBe('hihi');
//   await apps.close();
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { normalizeAddress, formatHostPort } from '@ambient-ts/addresses';
import type { PodInfo } from '@ambient-ts/netns-topology';
import { startFakeWaypoint } from '../helpers/apps.ts';
import { hboneConnect } from '../helpers/harness.ts';

const netns = () => import('@ambient-ts/netns');

/** How a test server answers: each read twice (ztunnel's ReadDoubleWrite), once, or as a tiny HTTP server. */
export type ServerMode = 'double' | 'echo' | 'http';

export interface PodServer {
  readonly port: number;
  /** Remote addresses (`ip:port`) of the connections accepted, in order. */
  readonly accepted: string[];
  /** Sockets still open (to hold or cut a connection from the app's side). */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

export interface WaypointServer {
  /** Every CONNECT the waypoint received: authority and the peer's SPIFFE identity. */
  readonly seen: { authority: string; peer: string }[];
  close(): Promise<void>;
}

export class PodApps {
  readonly #fds = new Map<string, number>();
  readonly #closers: (() => Promise<void> | void)[] = [];

  /** A (cached) fd of the pod's network namespace. */
  fd(pod: PodInfo): number {
    let fd = this.#fds.get(pod.namespace);
    if (fd === undefined) {
      fd = openSync(`/var/run/netns/${pod.namespace}`, 'r');
      this.#fds.set(pod.namespace, fd);
    }
    return fd;
  }

  /** A TCP server on 0.0.0.0:port inside the pod. */
  async server(pod: PodInfo, port: number, mode: ServerMode = 'double'): Promise<PodServer> {
    const { listenInNamespace } = await netns();
    const accepted: string[] = [];
    const open = new Set<Socket>();
    const server: Server = await listenInNamespace({ netns: this.fd(pod), host: '0.0.0.0', port }, (socket) => {
      accepted.push(formatHostPort(normalizeAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0));
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {});
      if (mode === 'http') {
        socket.once('data', () => {
          const body = `hello from ${pod.name}\n`;
          socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        });
        return;
      }
      socket.on('data', (chunk: Buffer) => {
        socket.write(chunk);
        if (mode === 'double') socket.write(chunk);
      });
      socket.on('end', () => socket.end());
    });
    server.on('error', () => {});
    const close = async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    this.#closers.push(close);
    return { port, accepted, open, close };
  }

  /** A plain (unmarked) TCP connection from inside the pod; resolves once connected. */
  async connect(pod: PodInfo, target: { host: string; port: number }): Promise<Socket> {
    const { connectInNamespace } = await netns();
    const socket = connectInNamespace({ netns: this.fd(pod), host: target.host, port: target.port });
    await once(socket, 'connect');
    return socket;
  }

  /** Connect from the pod, write, half-close, and collect everything until the peer closes. */
  async exchange(pod: PodInfo, target: { host: string; port: number }, payload: string): Promise<string> {
    return roundTrip(await this.connect(pod, target), payload);
  }

  /**
   * A fake waypoint in an (uncaptured) pod, as in ztunnel's tests (the direct tier's startFakeWaypoint): HBONE
   * on [::]:15008 with the test CA's certificate for `identity`, answering every CONNECT with `waypoint\n` and
   * an echo.
   */
  async waypoint(pod: PodInfo, identity: string): Promise<WaypointServer> {
    const { listenFd } = await netns();
    const { server, seen } = await startFakeWaypoint(identity, {
      fd: listenFd({ netns: this.fd(pod), host: '::', port: 15008 }),
    });
    const close = () => server.close().catch(() => {});
    this.#closers.push(close);
    return { seen, close };
  }

  /**
   * A raw HBONE CONNECT from inside a pod (a peer ztunnel or waypoint would send it) with a test-CA certificate
   * for `identity` (the direct tier's hboneConnect, dialling from the pod); resolves with the status and, on
   * 200, the tunnel stream.
   */
  async hboneConnect(
    pod: PodInfo,
    options: { identity: string; to: { host: string; port: number }; authority: string; expect: string[] },
  ): Promise<Awaited<ReturnType<typeof hboneConnect>>> {
    const { connectInNamespace } = await netns();
    const fd = this.fd(pod);
    const probe = await hboneConnect({
      ...options,
      socketFactory: (target) => connectInNamespace({ netns: fd, host: target.host, port: target.port }),
    });
    this.#closers.push(() => probe.pool.close().catch(() => {}));
    return probe;
  }

  /** Close every server, pool and namespace fd made here. Idempotent. */
  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close();
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }
}

/** Resolves when the socket has closed, however (events.once would reject on an 'error' first). */
export function closed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Write, half-close, and collect everything until the peer closes (errors end it too). */
export async function roundTrip(socket: Socket, payload: string): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => {});
  socket.end(payload);
  await closed(socket);
  return received;
}

/** How a connection attempt from a pod ended: bytes back, or refused / reset / closed with nothing. */
export async function attempt(
  apps: PodApps,
  pod: PodInfo,
  target: { host: string; port: number },
  payload: string,
  timeoutMs = 3000,
): Promise<{ connected: boolean; received: string; error?: string }> {
  const { connectInNamespace } = await netns();
  const socket = connectInNamespace({ netns: apps.fd(pod), host: target.host, port: target.port });
  let connected = false;
  let received = '';
  let error: string | undefined;
  socket.on('connect', () => {
    connected = true;
    socket.end(payload);
  });
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
  const timer = setTimeout(() => {
    error ??= 'TIMEOUT';
    socket.destroy();
  }, timeoutMs);
  await closed(socket);
  clearTimeout(timer);
  return { connected, received, ...(error === undefined ? {} : { error }) };
}
