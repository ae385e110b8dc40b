// The bench's application processes: `node --conditions=ambient-ts-source roles.ts <role> '<json>'`.
//   server: the server workload's apps on its pod IP; prints READY {sink, rr, echo}.
//   client: the load generator; answers IPC commands (one at a time) for any path it was given.
import { startApps, type Ports } from './apps.ts';
import { connectionRate, download, tcpOpener, upload, type Opener } from './client.ts';
import { LatencyClient } from './latency.ts';
import { socksConnect } from '@ambient-ts/socks5';

export type PathSpec =
  | { kind: 'tcp'; host: string; ports: Ports; localAddress?: string }
  | { kind: 'socks'; proxy: { host: string; port: number }; host: string; ports: Ports; localAddress: string };

export type Command =
  | { cmd: 'upload' | 'download'; path: string; ms: number }
  | { cmd: 'latency'; path: string; connections: number; rate: number; ms: number }
  | { cmd: 'close'; path: string }
  | { cmd: 'rate'; path: string; concurrency: number; ms: number };

const [role, json] = process.argv.slice(2);
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

function opener(spec: PathSpec): Opener {
  if (spec.kind === 'tcp') return tcpOpener(spec, spec.localAddress);
  return (service) =>
    socksConnect({
      proxy: spec.proxy,
      target: { host: spec.host, port: spec.ports[service] },
      localAddress: spec.localAddress,
    });
}

async function client(paths: Record<string, PathSpec>): Promise<void> {
  const openers = new Map(Object.entries(paths).map(([name, spec]) => [name, opener(spec)]));
  const latency = new Map<string, LatencyClient>();
  const run = async (command: Command): Promise<unknown> => {
    const open = openers.get(command.path);
    if (!open) throw new Error(`unknown path ${command.path}`);
    switch (command.cmd) {
      case 'upload':
        return upload(open, command.ms);
      case 'download':
        return download(open, command.ms);
      case 'latency': {
        const generator = latency.get(command.path) ?? new LatencyClient(open);
        latency.set(command.path, generator);
        return generator.run(command.connections, command.rate, command.ms);
      }
      case 'close':
        latency.get(command.path)?.close();
        latency.delete(command.path);
        return {};
      case 'rate':
        return connectionRate(open, command.concurrency, command.ms);
    }
  };
  process.on('message', (command: Command) => {
    run(command).then(
      (result) => process.send?.(result),
      (error: Error) => process.send?.({ error: error.message }),
    );
  });
  process.stdout.write('READY {}\n');
}

if (role === 'server') {
  const { host } = JSON.parse(json ?? '{}') as { host: string };
  process.stdout.write(`READY ${JSON.stringify(await startApps(host))}\n`);
} else if (role === 'client') {
  await client((JSON.parse(json ?? '{}') as { paths: Record<string, PathSpec> }).paths);
} else {
  console.error(`unknown role ${role}; one of server, client`);
  process.exit(2);
}
