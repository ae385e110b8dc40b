#!/usr/bin/env node
// node-agent: the command line of NodeAgent. Pods come from --pods (followed while it runs); pods are made on the
// file's node of the topology named by --topology (adoptTopology), or of a one-node topology it creates (its node
// is node0) when there is none. SIGTERM/SIGINT: stop accepting ztunnel, keep the namespaces unless --cleanup,
// exit 0. Exit 2: usage or an invalid pods file at start; 1: anything else that prevents starting.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { adoptTopology, createTopology, isRoot, type Topology } from '@ambient-ts/netns-topology';
import { DEFAULT_ZDS_PATH, NodeAgent } from './agent.ts';
import { PodsFileError } from './pods-file.ts';

const USAGE = `usage: node-agent --pods FILE [options]

  --pods FILE            pods file (YAML: node, pods[name, namespace, serviceAccount, ip, uid]); followed
  --uds PATH             ZDS socket ztunnel connects to (default ${DEFAULT_ZDS_PATH})
  --topology NETWORK     adopt this netns topology (its network namespace, atn-…); default: create a
                         one-node topology (node0) and keep it after exit unless --cleanup
  --cleanup              on SIGTERM/SIGINT remove the pods' rules and namespaces (and a created topology)
  --dns                  also redirect the pods' DNS to ztunnel's 15053
  --ack-timeout-ms N     ztunnel's answer to each request, else the connection is dropped (default 5000)
  --retry-ms N           re-send NACKed requests, re-make failed pods after N ms (default 5000)
  --cluster-id ID        cluster of default pod uids (default cluster1)
  --log-level LEVEL      trace, debug, info, warn, error (default info)
  --help`;

function usage(message: string): never {
  process.stderr.write(`node-agent: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) usage(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        pods: { type: 'string' },
        uds: { type: 'string' },
        topology: { type: 'string' },
        cleanup: { type: 'boolean' },
        dns: { type: 'boolean' },
        'ack-timeout-ms': { type: 'string' },
        'retry-ms': { type: 'string' },
        'cluster-id': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.pods) usage('--pods is required');
  const log = pino({ name: 'node-agent', level: values['log-level'] ?? 'info' });
  if (!isRoot) {
    log.error({}, 'the node agent makes network namespaces and iptables rules: it must run as root on Linux');
    process.exit(1);
  }
  let topology: Topology;
  let created = false;
  try {
    if (values.topology) topology = await adoptTopology(values.topology);
    else {
      topology = await createTopology({ nodes: 1, podsPerNode: 0, keepOnExit: true });
      created = true;
      log.info({ topology: topology.network, node: 'node0' }, 'created a one-node topology');
    }
  } catch (error) {
    log.error({}, `cannot use the topology: ${(error as Error).message}`);
    process.exit(1);
  }
  const agent = new NodeAgent({
    podsFile: values.pods,
    topology,
    udsPath: values.uds ?? DEFAULT_ZDS_PATH,
    ackTimeoutMs: positive('ack-timeout-ms', values['ack-timeout-ms'], 5000),
    retryMs: positive('retry-ms', values['retry-ms'], 5000),
    dns: values.dns ?? false,
    ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
    log,
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, cleanup: values.cleanup ?? false }, 'node agent stopping');
    await agent.stop({ cleanup: values.cleanup ?? false });
    if (values.cleanup && created) await topology.destroy();
    else if (!values.cleanup) log.info({ topology: topology.network }, 'namespaces kept (--cleanup removes them)');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    await agent.start();
  } catch (error) {
    log.error({ code: (error as { code?: string }).code }, (error as Error).message);
    if (created) await topology.destroy();
    process.exit(error instanceof PodsFileError ? 2 : 1);
  }
  log.info({ topology: topology.network, uds: agent.udsPath }, 'node agent ready');
}

await main();
