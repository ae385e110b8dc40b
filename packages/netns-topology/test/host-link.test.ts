import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOST_ADDRESS,
  HostLinkConflict,
  createTopology,
  isRoot,
  linkHost,
  run,
  startTcpServer,
  tcpExchange,
  type HostLink,
  type Topology,
} from '../src/index.ts';

const hostRoutes = async (device: string): Promise<string[]> =>
  (await run(['ip', 'route', 'show', 'dev', device]).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
const deviceExists = (device: string): Promise<boolean> =>
  run(['ip', 'link', 'show', device]).then(
    () => true,
    () => false,
  );

// Another test process (npm start's netns mode in apps/mesh) may hold the host link for a while: wait for it.
const waitMs = 150_000;

describe.skipIf(!isRoot)('linkHost: the host reaches pods and pods reach the host (needs root)', () => {
  let topology: Topology;
  let link: HostLink;
  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 1 });
    link = await linkHost(topology, { waitMs });
  }, waitMs + 30_000);
  afterAll(async () => {
    await link?.unlink();
    await topology?.destroy();
  });

  it('adds the host address and one route per node, and is idempotent', async () => {
    expect(link.address).toBe(HOST_ADDRESS);
    expect(link.device).toBe(`atnh-${topology.network.slice(-6)}`);
    expect(await linkHost(topology)).toBe(link);
    const routes = await hostRoutes(link.device);
    expect(routes).toContain('10.0.2.0/24 via 172.172.0.2');
    expect(routes).toContain('10.0.3.0/24 via 172.172.0.3');
    expect(routes.some((route) => route.startsWith('172.172.0.0/16') && route.includes(`src ${HOST_ADDRESS}`))).toBe(
      true,
    );
    expect(link.routes).toHaveLength(3);
  });

  it('a host process connects to a pod, and a pod to a host server on 172.172.0.254', async () => {
    const pod = topology.pod('node1-pod0');
    const server = await startTcpServer(pod.namespace, { port: 8080, tag: 'pod:' });
    try {
      const socket = connect({ host: pod.ip, port: 8080 });
      await once(socket, 'connect');
      socket.end('hi');
      let received = '';
      for await (const chunk of socket) received += String(chunk);
      expect(received).toBe('pod:hi');
      expect(server.connections()[0]?.remote).toMatch(new RegExp(`^${HOST_ADDRESS.replaceAll('.', '\\.')}:`));
    } finally {
      await server.stop();
    }

    const host = createServer((socket) => socket.end(`host saw ${socket.remoteAddress}`));
    host.listen(0, HOST_ADDRESS);
    await once(host, 'listening');
    try {
      const { port } = host.address() as AddressInfo;
      const exchange = await tcpExchange(topology.pod('node0-pod0').namespace, { host: HOST_ADDRESS, port }, '');
      expect(exchange.received).toBe('host saw 10.0.2.2');
    } finally {
      host.close();
    }
  });

  it('refuses a second topology while this one is linked, naming the route', async () => {
    const other = await createTopology({ nodes: 1, podsPerNode: 0 });
    try {
      const refused = await linkHost(other).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(HostLinkConflict);
      expect((refused as HostLinkConflict).message).toMatch(
        new RegExp(`host route 172\\.172\\.0\\.0/16 is taken \\(\`.*dev ${link.device}`),
      );
      expect(await deviceExists(`atnh-${other.network.slice(-6)}`)).toBe(false);
      // Waiting: retried for waitMs, onWait told once, then the same refusal.
      const waits: string[] = [];
      const started = Date.now();
      const afterWait = await linkHost(other, { waitMs: 800, onWait: (conflict) => waits.push(conflict.route) }).catch(
        (error: unknown) => error,
      );
      expect(afterWait).toBeInstanceOf(HostLinkConflict);
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
      expect(waits).toEqual(['172.172.0.0/16']);
      // The refused attempt removed only its own device: this link's routes are intact.
      expect(await hostRoutes(link.device)).toHaveLength(3);
    } finally {
      await other.destroy();
    }
  });

  it(
    'unlink removes the device and its routes; deleting a linked topology does too',
    async () => {
      await link.unlink();
      await link.unlink();
      expect(await deviceExists(link.device)).toBe(false);
      expect(await hostRoutes(link.device)).toEqual([]);
      expect((await run(['ip', 'route', 'show', 'exact', '10.0.2.0/24'])).stdout.trim()).toBe('');

      link = await linkHost(topology, { waitMs });
      expect(await deviceExists(link.device)).toBe(true);
      await topology.destroy();
      // The kernel tears a deleted namespace down asynchronously: its veth pairs go shortly after.
      const deadline = Date.now() + 10_000;
      while ((await deviceExists(link.device)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await deviceExists(link.device)).toBe(false);
      expect(await hostRoutes(link.device)).toEqual([]);
    },
    waitMs + 30_000,
  );
});
