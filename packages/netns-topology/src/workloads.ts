// Tiny plain-Node TCP workloads run inside a namespace: a server that reports every connection as a JSON line
// and echoes with a tag, and a one-shot client. They run on this process's own Node binary (the pinned Node 24).
import { exec, start, type NamespacedProcess } from './exec.ts';

/** One accepted connection as the server saw it (addresses as "ip:port"). */
export interface AcceptedConnection {
  local: string;
  remote: string;
}

export interface TcpServer {
  readonly process: NamespacedProcess;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): AcceptedConnection[];
  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number, timeoutMs?: number): Promise<AcceptedConnection[]>;
  stop(): Promise<void>;
}

export interface TcpServerOptions {
  port: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Written before the echo on every connection, so a client can tell which server answered. Default "". */
  tag?: string;
}

// Listens, prints {"listening":port}, then for every connection {"connection":{local,remote}}; replies with
// the tag followed by everything it reads, and ends when the client half-closes.
const SERVER = `
const net = require('node:net');
const [host, port, tag] = process.argv.slice(1);
const addr = (ip, p) => (ip.includes(':') && !ip.startsWith('::ffff:') ? '[' + ip + ']' : ip.replace(/^::ffff:/, '')) + ':' + p;
const server = net.createServer((socket) => {
  console.log(JSON.stringify({ connection: { local: addr(socket.localAddress, socket.localPort), remote: addr(socket.remoteAddress, socket.remotePort) } }));
  socket.on('error', () => {});
  socket.write(tag);
  socket.pipe(socket);
});
server.listen(Number(port), host, () => console.log(JSON.stringify({ listening: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts a tagged TCP echo server inside the namespace and waits until it listens. */
export async function startTcpServer(namespace: string, options: TcpServerOptions): Promise<TcpServer> {
  const child = start(namespace, [
    process.execPath,
    '-e',
    SERVER,
    options.host ?? '0.0.0.0',
    String(options.port),
    options.tag ?? '',
  ]);
  try {
    await child.waitFor('"listening"');
  } catch (error) {
    await child.stop();
    throw error;
  }
  const connections = (): AcceptedConnection[] =>
    child
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{"connection"'))
      .map((line) => (JSON.parse(line) as { connection: AcceptedConnection }).connection);
  return {
    process: child,
    port: options.port,
    connections,
    async waitForConnections(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (connections().length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `server on ${options.port} in ${namespace} saw ${connections().length} of ${count} connections`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return connections();
    },
    stop: () => child.stop(),
  };
}

export interface TcpExchange {
  /** The client socket's own address ("ip:port"). */
  local: string;
  /** Everything the server sent until it closed. */
  received: string;
}

// Connects, writes the payload, half-closes, prints {"local","received"} once the server ends.
const CLIENT = `
const net = require('node:net');
const [host, port, payload] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
let received = '';
let local = '';
socket.setEncoding('utf8');
socket.on('connect', () => { local = socket.localAddress + ':' + socket.localPort; socket.end(payload); });
socket.on('data', (chunk) => (received += chunk));
socket.on('end', () => console.log(JSON.stringify({ local, received })));
socket.on('error', (error) => { console.error(error.code ?? error.message); process.exit(2); });
`;

/** Connects from inside the namespace to host:port, sends payload, returns what came back. */
export async function tcpExchange(
  namespace: string,
  target: { host: string; port: number },
  payload: string,
  timeoutMs = 10_000,
): Promise<TcpExchange> {
  const { stdout } = await exec(
    namespace,
    [process.execPath, '-e', CLIENT, target.host, String(target.port), payload],
    { timeoutMs },
  );
  return JSON.parse(stdout) as TcpExchange;
}
