// Pod and ztunnel lifecycle in shared mode (facts §11 #14, §9.1 "Del → graceful drain"): a ZDS Del stops the
// pod's proxy — new connections to it fail at once, established ones end at CONNECTION_TERMINATION_DEADLINE
// (`connection closed due to connection drain`) — while other pods keep working, and a new Add brings it back;
// ztunnel's drain (the SIGTERM path, `ztunnel.drain()`) refuses new connections but keeps established ones
// working until they close (graceful, long before the deadline) or the deadline passes (closed then). Clients
// are plain sockets in the pods. Root and the native addon only: otherwise skipped by name.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { awaitAccessLog } from './mesh-observe.ts';
import { attempt, closed, PodApps } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;

/** Write and wait for the doubled echo. */
async function echo(socket: Socket, text: string, timeoutMs = 3000): Promise<string> {
  let received = '';
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of "${text}" within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length * 2) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(text);
  await done;
  return received;
}

/** Milliseconds until the socket closes (rejects after `timeoutMs`). */
async function closesWithin(socket: Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  if (socket.destroyed) return 0;
  await Promise.race([
    closed(socket),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs)),
  ]);
  return Date.now() - started;
}

describe.skipIf(!support.available)(`shared mode lifecycle: Del and drain${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 2,
      podsPerNode: 2,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1' },
        { name: 'far', pod: 'node1-pod0' },
      ],
      // the harness's 1 s deadline for Del; drain() below names its own
    });
    for (const name of ['server', 'far']) await apps.server(mesh.workload(name).pod, 8080, 'double');
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  const to = (name: string) => ({ host: mesh.workload(name).ip, port: 8080 });

  it('Del stops the pod’s proxy: new connections fail, established ones end at the deadline; Add restores it', async () => {
    const client = mesh.workload('client').pod;
    const established = await apps.connect(client, to('server'));
    established.on('error', () => {});
    expect(await echo(established, 'before')).toBe('beforebefore');

    const started = Date.now();
    expect((await mesh.delPod('server')).ack?.error ?? '').toBe('');
    // New connections to the deleted pod fail at once (its 15008 no longer listens).
    const fresh = await attempt(apps, client, to('server'), 'after del');
    expect(fresh.received).toBe('');
    // The established one is drained: closed at CONNECTION_TERMINATION_DEADLINE (1 s here), not before.
    await closesWithin(established, 4000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const drainedLine = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'inbound',
      'dst.workload': 'server',
      error: 'connection closed due to connection drain',
    });
    expect(drainedLine).toMatchObject({ 'src.workload': 'client' });
    const dump = (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
      inpod: { pods: { name: string }[] };
    };
    expect(dump.inpod.pods.map((pod) => pod.name)).toEqual(['client']);
    // Other pods are untouched: the client still reaches the pod on the other node.
    expect(await apps.exchange(client, to('far'), 'far')).toBe('farfar');

    // A new Add (same namespace, as after a pod restart keeps it) serves it again.
    expect((await mesh.addPod('server')).ack?.error ?? '').toBe('');
    expect(await apps.exchange(client, to('server'), 'back')).toBe('backback');
  });

  it('ztunnel drain with a deadline: established connections keep working, then are closed at the deadline', async () => {
    const client = mesh.workload('client').pod;
    const established = await apps.connect(client, to('far'));
    established.on('error', () => {});
    expect(await echo(established, 'one')).toBe('oneone');
    const started = Date.now();
    const drained = mesh.ztunnel('node1').started.ztunnel.drain(1500);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Draining: still carried…
    expect(await echo(established, 'two')).toBe('twotwo');
    // …but new connections to node1's pods are refused.
    expect((await attempt(apps, client, to('far'), 'new')).received).toBe('');
    await closesWithin(established, 5000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    await drained;
    expect(
      await awaitAccessLog(mesh, 'node1', {
        message: 'connection complete',
        direction: 'inbound',
        'dst.workload': 'far',
        error: 'connection closed due to connection drain',
      }),
    ).toMatchObject({ 'src.workload': 'client' });
  });

  it('ztunnel drain (SIGTERM path) keeps an established connection until it closes, long before the deadline', async () => {
    const client = mesh.workload('client').pod;
    const established = await apps.connect(client, to('server'));
    established.on('error', () => {});
    expect(await echo(established, 'one')).toBe('oneone');
    const ztunnel = mesh.ztunnel('node0').started.ztunnel;
    let finished = false;
    const drained = ztunnel.drain(20_000).then(() => (finished = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await echo(established, 'still')).toBe('stillstill');
    expect(finished).toBe(false);
    // The client finishes: the drain completes at once, not at the 20 s deadline.
    const closedAt = Date.now();
    established.end();
    await closesWithin(established, 3000);
    await drained;
    expect(Date.now() - closedAt).toBeLessThan(5000);
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'outbound',
      'dst.workload': 'server',
      bytes_sent: 8,
    });
    expect(line).toMatchObject({ level: 'info', bytes_recv: 16 });
    expect(line).not.toHaveProperty('error');
  });
});
