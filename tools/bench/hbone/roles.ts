// One benchmark process: `node --conditions=ambient-ts-source roles.ts <role> '<json config>'`.
// Each role prints `READY <json>` on stdout when it is serving and answers IPC `{ cmd: 'rss' }` with
// its resident set size after a full GC (children run with --expose-gc).
import { readFileSync } from 'node:fs';
import { setDefaultHighWaterMark } from 'node:stream';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { createHboneServer, HbonePool, splice, type TlsCredentials } from '@ambient-ts/hbone';
import { runSink } from './load.ts';
import { bareClient, bareIdle, bareServer } from './bare-h2.ts';
import { measureRate } from './rate.ts';

interface Config {
  certDir: string;
  serverId: string;
  clientId: string;
  /** hbone-client: the hbone-server to tunnel to; sink address as the authority. */
  server?: { host: string; port: number };
  authority?: string;
  /** hbone-server: echo instead of forwarding. */
  echo?: boolean;
  seconds?: number;
  concurrency?: number;
  tunnels?: number;
  serverPid?: number;
}

const [role, json] = process.argv.slice(2);
// The proxy processes buffer up to 1 MiB per stream before backpressure instead of Node's 64 KiB: fewer
// pause/resume cycles per byte (the tuning the package README recommends to applications).
if (role?.startsWith('hbone') || role?.startsWith('bare') || role === 'rate' || role === 'idle')
  setDefaultHighWaterMark(false, 1 << 20);
process.on('SIGINT', () => process.exit(0));
const config = JSON.parse(json ?? '{}') as Config;
// Server roles report where they listen as `{ address, port }` (HboneServer.listen, AddressInfo); clients
// dial `{ host, port }`. Without this the dial target's host was undefined (net.connect fell back to localhost).
const reported = config.server as { host?: string; address?: string; port: number } | undefined;
if (reported) config.server = { host: reported.host ?? reported.address ?? '127.0.0.1', port: reported.port };

function creds(name: string): TlsCredentials {
  return {
    certChainPem: readFileSync(`${config.certDir}/${name}.pem`, 'utf8'),
    privateKeyPem: readFileSync(`${config.certDir}/${name}-key.pem`, 'utf8'),
    rootCertsPem: readFileSync(`${config.certDir}/root.pem`, 'utf8'),
  };
}

function ready(info: unknown): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

process.on('message', (message: { cmd: string }) => {
  if (message.cmd !== 'rss') return;
  globalThis.gc?.();
  globalThis.gc?.();
  process.send?.({ rss: process.memoryUsage().rss });
});

async function hboneServer(): Promise<void> {
  const credentials = creds('server');
  const server = createHboneServer({
    credentials: () => credentials,
    onConnect: (request) => {
      if (config.echo) {
        const { stream } = request.accept();
        stream.on('data', (chunk: Buffer) => {
          if (!stream.write(chunk)) stream.pause();
        });
        stream.on('drain', () => stream.resume());
        stream.on('end', () => stream.end());
        return;
      }
      const target = request.authority.kind === 'ip' ? request.authority.address : request.authority.host;
      const backend = connect({ host: target, port: request.authority.port, noDelay: true });
      backend.once('connect', () => splice(request.accept().stream, backend));
      backend.once('error', () => (request.state === 'pending' ? request.refuse(503) : undefined));
    },
  });
  const bound = await server.listen({ host: '127.0.0.1', port: 0 });
  ready(bound);
}

async function hboneClient(): Promise<void> {
  const credentials = creds('client');
  const pool = new HbonePool();
  const listener = createServer({ noDelay: true, allowHalfOpen: true }, (socket: Socket) => {
    pool
      .connect({
        address: config.server!,
        authority: config.authority!,
        credentials,
        sourceIdentity: config.clientId,
        expectedIdentities: [config.serverId],
      })
      .then(
        (tunnel) => splice(socket, tunnel.stream),
        () => socket.resetAndDestroy(),
      );
  });
  listener.listen(0, '127.0.0.1', () => ready(listener.address() as AddressInfo));
}

/** New tunnels per second over the pool: connect, 1-byte echo, close, with N in flight. */
async function rate(): Promise<void> {
  const credentials = creds('client');
  const pool = new HbonePool();
  const options = {
    address: config.server!,
    authority: '127.0.0.1:9',
    credentials,
    sourceIdentity: config.clientId,
    expectedIdentities: [config.serverId],
  };
  const one = async (): Promise<void> => {
    const { stream } = await pool.connect(options);
    await new Promise<void>((resolve, reject) => {
      stream.once('data', () => stream.end());
      stream.once('close', resolve);
      stream.once('error', reject);
      stream.resume();
      stream.write('x');
    });
  };
  const result = await measureRate(one, rateOptions());
  ready({ ...result, connections: pool.stats().dials });
  await pool.close();
  process.exit(0);
}

function rateOptions(): { concurrency: number; seconds: number; serverPid?: number } {
  return {
    concurrency: config.concurrency ?? 64,
    seconds: config.seconds ?? 3,
    ...(config.serverPid === undefined ? {} : { serverPid: config.serverPid }),
  };
}

/** Hold idle tunnels, opened on request: IPC `{ cmd: 'open', count }` answers `{ opened }`. */
async function idle(): Promise<void> {
  const credentials = creds('client');
  const pool = new HbonePool();
  const held: unknown[] = [];
  const open = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, () =>
          pool.connect({
            address: config.server!,
            authority: '127.0.0.1:9',
            credentials,
            sourceIdentity: config.clientId,
            expectedIdentities: [config.serverId],
          }),
        ),
      );
      // A proxy keeps the tunnel's stream (spliced to an app socket), not the response headers.
      held.push(...batch.map((tunnel) => tunnel.stream));
    }
  };
  process.on('message', (message: { cmd: string; count?: number }) => {
    if (message.cmd === 'open') {
      void open(message.count ?? 0).then(() =>
        process.send?.({ opened: held.length, connections: pool.stats().connections }),
      );
    }
  });
  ready({});
}

/** A plain TCP echo, and a client that opens connections with a 1-byte echo (the rate baseline). */
async function tcpEcho(): Promise<void> {
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1', () => ready(server.address() as AddressInfo));
}

async function tcpRate(): Promise<void> {
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect({ ...config.server!, noDelay: true });
      socket.once('connect', () => socket.write('x'));
      socket.once('data', () => socket.end());
      socket.once('close', () => resolve());
      socket.once('error', reject);
    });
  ready(await measureRate(one, rateOptions()));
  process.exit(0);
}

async function bareH2Server(): Promise<void> {
  ready(await bareServer(creds('server')));
}

async function bareH2Idle(): Promise<void> {
  const open = bareIdle(creds('client'), config.server!.port);
  process.on('message', (message: { cmd: string; count?: number }) => {
    if (message.cmd === 'open') void open(message.count ?? 0).then((opened) => process.send?.({ opened }));
  });
  ready({});
}

async function bareH2Rate(): Promise<void> {
  ready(await measureRate(await bareClient(creds('client'), config.server!.port), rateOptions()));
  process.exit(0);
}

async function sink(): Promise<void> {
  ready(await runSink());
}

const roles: Record<string, () => Promise<void>> = {
  'hbone-server': hboneServer,
  'hbone-client': hboneClient,
  rate,
  idle,
  sink,
  'tcp-echo': tcpEcho,
  'tcp-rate': tcpRate,
  'bare-h2-server': bareH2Server,
  'bare-h2-rate': bareH2Rate,
  'bare-h2-idle': bareH2Idle,
};
const run = roles[role ?? ''];
if (!run) {
  console.error(`unknown role ${role}; one of ${Object.keys(roles).join(', ')}`);
  process.exit(2);
}
await run();
