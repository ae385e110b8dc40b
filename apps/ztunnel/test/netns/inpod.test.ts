// PROXY_MODE=shared end to end (facts §9, §11 #1 and #14): pods as network namespaces with Istio's in-pod
// iptables rules, our ztunnel in-process serving each pod from inside its namespace, a fake CNI agent handing over
// the namespace fds. The client is an unmodified program (`net.connect` inside pod A, no SOCKS5, no proxy
// settings); the server a plain echo server inside pod B. Then the pod lifecycle over ZDS: a repeated Add, a
// pod whose proxy cannot start (NACKed naming it, retried, the others unaffected), Del. Root only: otherwise
// skipped by name. The tests of this file run in order on one mesh.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpServer, tcpExchange, type TcpServer } from '@ambient-ts/netns-topology';
import { eventually } from '../helpers/observe.ts';
import {
  createNetnsMesh,
  expectMeshTraffic,
  netnsMeshSupport,
  startLongLivedClient,
  type NetnsMesh,
} from './harness.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;

interface Dump {
  inpod: {
    pods: Record<string, unknown>[];
    zds: { state: { state: string }; snapshotReceived: boolean; pending: { uid: string; error: string }[] };
  };
}

/** fds of this process open on a network namespace (readlink `net:[<inode>]`). */
function namespaceFds(inode: number): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === `net:[${inode}]`) count++;
    } catch {
      // closed while listing
    }
  }
  return count;
}

describe.skipIf(!support.available)(`in-pod mode on one node: traffic and the pod lifecycle${suffix}`, () => {
  let mesh: NetnsMesh;
  let echo: TcpServer;
  const dump = async (): Promise<Dump> =>
    (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as Dump;
  const exchange = () =>
    tcpExchange(mesh.workload('client').pod.namespace, { host: mesh.workload('server').ip, port: 8080 }, 'again');

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 4,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1' },
        // Captured (rules installed) but added by the test: its proxy is made to fail first.
        { name: 'broken', pod: 'node0-pod2', added: false },
        // Added by the test under another name than discovery has at its IP.
        { name: 'stranger', pod: 'node0-pod3', added: false },
      ],
    });
    echo = await startTcpServer(mesh.workload('server').pod.namespace, { port: 8080 });
  });

  afterAll(async () => {
    await echo?.stop();
    await mesh?.destroy();
  });

  it('an unmodified client in pod A reaches the server in pod B through HBONE, keeping its source IP', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const result = await tcpExchange(client.pod.namespace, { host: server.ip, port: 8080 }, 'hello world');
    expect(result.received).toBe('hello world');
    // Original source preserved (IP_TRANSPARENT + the 0x111 connmark rules): the app sees pod A's IP.
    const [accepted] = await echo.waitForConnections(1);
    expect(accepted?.remote).toMatch(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:`));
    await expectMeshTraffic(mesh, { client: 'client', server: 'server', bytes: 11 });
  });

  it('/config_dump lists the pods with their namespace, state and listeners, and the ZDS status', async () => {
    const { inpod } = await dump();
    expect(inpod.zds).toMatchObject({ state: { state: 'synced' }, snapshotReceived: true, ready: true });
    const client = mesh.workload('client');
    expect(inpod.pods.map((pod) => pod['name']).sort()).toEqual(['client', 'server']);
    expect(inpod.pods.find((pod) => pod['uid'] === client.uid)).toMatchObject({
      name: 'client',
      namespace: 'default',
      serviceAccount: 'client',
      state: 'running',
      netns: `${statSync(`/var/run/netns/${client.pod.namespace}`).dev}:${statSync(`/var/run/netns/${client.pod.namespace}`).ino}`,
      originalSource: true,
      listeners: [
        { address: '::', port: 15001, purpose: 'outbound' },
        { address: '::', port: 15006, purpose: 'plaintext' },
        { address: '::', port: 15008, purpose: 'hbone' },
      ],
    });
    expect(await (await mesh.ztunnel('node0').started.ready()).text()).toBe('ready\n');
  });

  it('an Add of a uid already served from the same namespace is ACKed and changes nothing', async () => {
    const client = mesh.workload('client');
    const inode = statSync(`/var/run/netns/${client.pod.namespace}`).ino;
    const fdsBefore = namespaceFds(inode);
    const started = () =>
      mesh
        .ztunnel('node0')
        .started.logs()
        .filter((line) => line['message'] === 'pod proxy started' && line['uid'] === client.uid).length;
    expect(started()).toBe(1);
    expect((await mesh.addPod('client')).ack?.error ?? '').toBe('');
    expect((await mesh.addPod('client')).ack?.error ?? '').toBe('');
    expect(started()).toBe(1);
    // The duplicate fds were closed, the running proxy keeps its own.
    expect(namespaceFds(inode)).toBe(fdsBefore);
    expect((await dump()).inpod.pods.filter((pod) => pod['uid'] === client.uid)).toHaveLength(1);
    expect((await exchange()).received).toBe('again');
  });

  it('a pod whose proxy cannot start is NACKed naming it and retried every 5 s; the other pods keep working', async () => {
    const broken = mesh.workload('broken');
    // Something in the pod already holds 15008 (without SO_REUSEPORT): ztunnel's listener cannot bind there.
    const squatter = await startTcpServer(broken.pod.namespace, { port: 15008, host: '0.0.0.0' });
    let squatting = true;
    try {
      const response = await mesh.addPod('broken');
      // The client's NACK names the pod around what failed.
      expect(response.ack?.error).toBe(
        `pod ${broken.uid} (default/broken): starting its proxy failed: listening on [::]:15008 inside the pod's network namespace failed: bind :::15008: bind failed: Address already in use (EADDRINUSE); retrying every 5000 ms`,
      );
      const { inpod } = await dump();
      expect(inpod.pods.find((pod) => pod['uid'] === broken.uid)).toMatchObject({
        state: 'failed',
        lastError: expect.stringContaining('listening on [::]:15008'),
      });
      expect(inpod.zds.pending).toMatchObject([{ uid: broken.uid, error: expect.stringContaining('EADDRINUSE') }]);
      expect(await (await mesh.ztunnel('node0').started.ready()).text()).toContain(`zds pod ${broken.uid}`);
      // Every other pod is unaffected.
      expect((await exchange()).received).toBe('again');
      // Once the port is free the retry starts it.
      await squatter.stop();
      squatting = false;
      const after = await eventually(
        dump,
        (value) => value.inpod.pods.some((pod) => pod['uid'] === broken.uid && pod['state'] === 'running'),
        8000,
      );
      expect(after.inpod.zds.pending).toEqual([]);
      expect(await (await mesh.ztunnel('node0').started.ready()).text()).toBe('ready\n');
    } finally {
      if (squatting) await squatter.stop();
    }
  });

  it('an outbound connection from a pod whose WorkloadInfo is not the workload at its IP is refused, saying so', async () => {
    const stranger = mesh.workload('stranger');
    const served = echo.connections().length;
    expect((await mesh.addPod('stranger', { info: { name: 'impostor' } })).ack?.error ?? '').toBe('');
    const attempt = await tcpExchange(
      stranger.pod.namespace,
      { host: mesh.workload('server').ip, port: 8080 },
      'x',
    ).catch((error: Error) => ({ received: '', error }));
    expect(attempt.received).toBe('');
    const refused = await eventually(
      () => mesh.ztunnel('node0').started.logs(),
      (lines) => lines.some((line) => String(line['message']).startsWith('outbound connection refused')),
    );
    expect(refused.find((line) => String(line['message']).startsWith('outbound connection refused'))).toMatchObject({
      scope: 'proxy',
      pod: 'default/impostor',
      message: `outbound connection refused: the workload at ${stranger.ip} is default/stranger, not this pod (default/impostor)`,
    });
    // Nothing reached the server.
    expect(echo.connections().length).toBe(served);
  });

  it("Del stops the pod's proxy: gone from /config_dump, new connections fail, open ones end at the drain deadline", async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const open = startLongLivedClient(client.pod.namespace, { host: server.ip, port: 8080 }, 'ping');
    try {
      await open.received('ping');
      const deleted = Date.now();
      expect((await mesh.delPod('server')).ack?.error ?? '').toBe('');
      expect((await dump()).inpod.pods.map((pod) => pod['name']).sort()).toEqual(['broken', 'client', 'impostor']);
      // New connections: the client's proxy finds nothing listening on the server pod's 15008.
      const attempt = await exchange().catch((error: Error) => ({ received: '', error }));
      expect(attempt.received).toBe('');
      // The open one had the drain deadline (CONNECTION_TERMINATION_DEADLINE=1s in the harness).
      await open.closed(5000);
      expect(Date.now() - deleted).toBeLessThan(4000);
      const failed = await eventually(
        () => mesh.ztunnel('node0').started.logs(),
        (lines) => lines.some((line) => line['message'] === 'connection failed' && line['direction'] === 'outbound'),
      );
      expect(
        failed.find((line) => line['message'] === 'connection failed' && line['direction'] === 'outbound'),
      ).toMatchObject({
        'src.addr': expect.stringMatching(new RegExp(`^${client.ip.replaceAll('.', '\\.')}:`)),
        'dst.addr': `${server.ip}:8080`,
        error: expect.stringMatching(
          new RegExp(`^io error: TCP connect to ${server.ip.replaceAll('.', '\\.')}:15008 failed: .*ECONNREFUSED`),
        ),
      });
    } finally {
      await open.stop();
    }
  });

  it('an Add of a known uid from another namespace starts a new proxy there and drains the old one', async () => {
    const broken = mesh.workload('broken');
    const fresh = await mesh.topology.addPod('node0');
    const freshId = statSync(`/var/run/netns/${fresh.namespace}`);
    expect((await mesh.addPod('broken', { namespace: fresh.namespace })).ack?.error ?? '').toBe('');
    const pods = (await dump()).inpod.pods.filter((pod) => pod['uid'] === broken.uid);
    expect(pods).toMatchObject([{ state: 'running', netns: `${freshId.dev}:${freshId.ino}` }]);
    // The old namespace has no ztunnel listener any more; the new one has.
    await expect(tcpExchange(broken.pod.namespace, { host: '127.0.0.1', port: 15008 }, 'x')).rejects.toThrow();
    await expect(tcpExchange(fresh.namespace, { host: '127.0.0.1', port: 15008 }, 'x')).resolves.toBeDefined();
  });

  it("after a reconnect, the agent's snapshot reconciles: pods it no longer lists are drained", async () => {
    const zds = await mesh.restartAgent('node0');
    expect((await zds.request({ keep: { uid: mesh.workload('client').uid } })).ack?.error ?? '').toBe('');
    expect((await zds.request({ keep: { uid: mesh.workload('broken').uid } })).ack?.error ?? '').toBe('');
    expect((await zds.request({ snapshotSent: {} })).ack?.error ?? '').toBe('');
    const { inpod } = await dump();
    expect(inpod.pods.map((pod) => pod['name']).sort()).toEqual(['broken', 'client']);
    expect(inpod.zds).toMatchObject({ state: { state: 'synced' }, snapshotReceived: true });
  });
});
