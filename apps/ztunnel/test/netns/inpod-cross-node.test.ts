// PROXY_MODE=shared across nodes (facts §11 #1 `cross_node_captured_inpod`): two nodes with one captured pod
// each, one in-process ztunnel per node (both in this process), each fed by its own fake CNI agent. An
// unmodified client in the pod on node0 reaches the server in the pod on node1: HBONE leaves from the client
// pod's namespace and ends in the server pod's; each ztunnel reports its side. Root only: otherwise skipped by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpServer, tcpExchange, type TcpServer } from '@ambient-ts/netns-topology';
import {
  createNetnsMesh,
  expectMeshTraffic,
  netnsMeshSupport,
  startLongLivedClient,
  type NetnsMesh,
} from './harness.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;

describe.skipIf(!support.available)(`in-pod mode across two nodes${suffix}`, () => {
  let mesh: NetnsMesh;
  let echo: TcpServer;

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 2,
      podsPerNode: 1,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node1-pod0' },
      ],
    });
    echo = await startTcpServer(mesh.workload('server').pod.namespace, { port: 8080 });
  });

  afterAll(async () => {
    await echo?.stop();
    await mesh?.destroy();
  });

  it('an unmodified client on node0 reaches the server on node1 through both ztunnels, keeping its source IP', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const result = await tcpExchange(client.pod.namespace, { host: server.ip, port: 8080 }, 'hello world');
    expect(result.received).toBe('hello world');
    const [accepted] = await echo.waitForConnections(1);
    expect(accepted?.remote).toMatch(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:`));
    // node0's ztunnel reports the source side, node1's the destination side.
    await expectMeshTraffic(mesh, { client: 'client', server: 'server', bytes: 11 });
    // Each ztunnel serves only its own node's pod.
    for (const [node, name] of [
      ['node0', 'client'],
      ['node1', 'server'],
    ] as const) {
      const dump = (await (await mesh.ztunnel(node).started.admin('/config_dump')).json()) as {
        inpod: { pods: { name: string; state: string }[] };
      };
      expect(dump.inpod.pods).toMatchObject([{ name, state: 'running' }]);
    }
  });

  it("drain (SIGTERM) stops the pods' listeners at once and lets an established connection run until the deadline", async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const open = startLongLivedClient(client.pod.namespace, { host: server.ip, port: 8080 }, 'ping');
    try {
      await open.received('ping');
      const started = Date.now();
      const drained = mesh.ztunnel('node1').started.ztunnel.drain(1500);
      // New connections to the server pod are refused right away (its 15008 listener is closed).
      await new Promise((resolve) => setTimeout(resolve, 100));
      const attempt = await tcpExchange(client.pod.namespace, { host: server.ip, port: 8080 }, 'late').catch(
        (error: Error) => ({ received: '', error }),
      );
      expect(attempt.received).toBe('');
      // The established one is closed by the deadline, not before.
      await open.closed(5000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(await drained).toMatchObject({ state: 'stopped' });
    } finally {
      await open.stop();
    }
  });
});
