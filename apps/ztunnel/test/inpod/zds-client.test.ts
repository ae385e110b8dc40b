// The ZDS client against a fake CNI node agent on a real SOCK_SEQPACKET socket in a temp dir, with real fds over
// SCM_RIGHTS: the namespace fd is this process's own (/proc/self/ns/net, no root needed). Needs the native addon
// of @ambient-ts/netns; without it the suite is reported as skipped with the reason in its title.
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage, type zds } from '@ambient-ts/istio-api';
import { captureSupport } from '../../src/capture-support.ts';
import type { NetnsId, PodInfo } from '../../src/inpod/protocol.ts';
import { loadZdsTransport } from '../../src/inpod/transport.ts';
import {
  pendingPodTask,
  SNAPSHOT_TASK,
  ZdsClient,
  type PodRegistry,
  type ZdsClientOptions,
  type ZdsClientState,
} from '../../src/inpod/zds-client.ts';

const support = await captureSupport();
const agentModule = support.available ? await import('./fake-agent.ts') : undefined;
const netns = support.available ? await import('@ambient-ts/netns') : undefined;
const title = support.available
  ? 'ZDS client against a fake CNI agent'
  : `ZDS client against a fake CNI agent — skipped: needs the native addon of @ambient-ts/netns (${support.reason})`;

type Call =
  | { op: 'add'; uid: string; info: PodInfo; netnsId: NetnsId }
  | { op: 'del'; uid: string }
  | { op: 'reconcile'; kept: string[] };

/** Records every call; add fails for the uids in `failing` (as often as the count says). */
class RecordingRegistry implements PodRegistry {
  readonly calls: Call[] = [];
  readonly ownedFds: number[] = [];
  readonly failing = new Map<string, number>();
  #waiters: (() => void)[] = [];

  async add(uid: string, info: PodInfo, netnsFd: number, netnsId: NetnsId): Promise<void> {
    this.#record({ op: 'add', uid, info, netnsId });
    const failures = this.failing.get(uid) ?? 0;
    if (failures > 0) {
      this.failing.set(uid, failures - 1);
      throw new Error('bind 0.0.0.0:15008 in the pod: EADDRINUSE');
    }
    this.ownedFds.push(netnsFd);
  }

  del(uid: string): void {
    this.#record({ op: 'del', uid });
  }

  reconcile(kept: ReadonlySet<string>): void {
    this.#record({ op: 'reconcile', kept: [...kept].sort() });
  }

  /** Resolves once `count` calls were recorded. */
  async calledTimes(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.calls.length < count) {
      if (Date.now() > deadline) throw new Error(`registry: ${this.calls.length} calls, wanted ${count}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  #record(call: Call): void {
    this.calls.push(call);
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  release(): void {
    for (const fd of this.ownedFds.splice(0)) closeSync(fd);
  }
}

/** Open fds of this process that point at `path`. */
function fdsPointingTo(path: string): number {
  let count = 0;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === path) count += 1;
    } catch {
      // the fd of readdir itself, gone by now
    }
  }
  return count;
}

const info = { name: 'web-1', namespace: 'default', serviceAccount: 'web' };

describe.skipIf(!support.available)(title, () => {
  const { FakeAgent, addRequest } = agentModule ?? ({} as NonNullable<typeof agentModule>);
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(options: Partial<ZdsClientOptions> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'ztunnel-zds-'));
    const agent = new FakeAgent(join(dir, 'ztunnel.sock')).listen();
    const registry = new RecordingRegistry();
    const states: ZdsClientState[] = [];
    const tasks = new Set<string>();
    const readiness = { register: (task: string) => tasks.add(task), complete: (task: string) => tasks.delete(task) };
    const client = new ZdsClient({
      path: agent.path,
      registry,
      transport: await loadZdsTransport(),
      readiness,
      onStateChange: (state) => states.push(state),
      ...options,
    });
    const netnsFd = openSync('/proc/self/ns/net', 'r');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => closeSync(netnsFd));
    cleanups.push(() => registry.release());
    cleanups.push(() => agent.stop());
    cleanups.push(() => client.close());
    client.start();
    const connection = await agent.connection();
    return { dir, agent, registry, states, tasks, client, netnsFd, connection };
  }

  const stateNames = (states: ZdsClientState[]) => states.map((state) => state.state);

  it('sends ZdsHello{version: V1} as its first packet, then waits in hello-sent', async () => {
    const { connection, client, tasks } = await setup();
    expect(await connection.hello()).toEqual({ version: 'V1' });
    expect(client.state).toEqual({ state: 'hello-sent' });
    expect(client.status()).toMatchObject({ snapshotReceived: false, ready: false, pending: [] });
    expect([...tasks]).toEqual([SNAPSHOT_TASK]);
  });

  it('ACKs an Add carrying a network namespace fd and hands uid, workload info and namespace id to the registry', async () => {
    const { connection, registry, netnsFd, client } = await setup();
    await connection.hello();
    expect(await connection.request(addRequest('uid-1', info), [netnsFd])).toEqual({ ack: {} });
    expect(registry.calls).toEqual([{ op: 'add', uid: 'uid-1', info, netnsId: netns!.namespaceId(netnsFd) }]);
    // the registry got its own fd of the same namespace
    expect(netns!.namespaceId(registry.ownedFds[0]!)).toEqual(netns!.namespaceId(netnsFd));
    expect(client.state).toEqual({ state: 'receiving-snapshot' });
  });

  it('NACKs an Add without fd, naming the pod and the missing namespace fd, then reconnects with a new hello', async () => {
    const { agent, connection, registry, states } = await setup();
    await connection.hello();
    const response = await connection.request(addRequest('uid-nofd', info));
    expect(response.ack?.error).toMatch(/pod uid-nofd: AddWorkload without a network namespace fd/);
    await connection.closed;
    const again = await agent.connection();
    expect(await again.hello()).toEqual({ version: 'V1' });
    expect(registry.calls).toEqual([]);
    expect(states.find((state) => state.state === 'backoff')).toMatchObject({
      lastError: expect.stringContaining('ZDS_FD_MISSING'),
    });
  });

  it('NACKs an Add whose fd is a regular file ("not a network namespace") and closes the received fd', async () => {
    const { dir, connection, registry } = await setup();
    await connection.hello();
    const file = join(dir, 'not-a-namespace.txt');
    writeFileSync(file, 'plain file');
    const fileFd = openSync(file, 'r');
    const response = await connection.request(addRequest('uid-file', info), [fileFd]);
    closeSync(fileFd);
    expect(response.ack?.error).toMatch(/pod uid-file: the fd passed with AddWorkload is not a network namespace/);
    expect(registry.calls).toEqual([]);
    expect(fdsPointingTo(file)).toBe(0); // ztunnel's copy was closed too
  });

  it('NACKs an Add without workload_info and a Keep carrying an fd', async () => {
    const { agent, connection, netnsFd } = await setup();
    await connection.hello();
    expect((await connection.request(addRequest('uid-noinfo', undefined), [netnsFd])).ack?.error).toBe(
      'pod uid-noinfo: AddWorkload without workload_info',
    );
    const again = await agent.connection();
    await again.hello();
    expect((await again.request({ keep: { uid: 'uid-k' } }, [netnsFd])).ack?.error).toBe(
      'pod uid-k: KeepWorkload carried 1 fd(s); only AddWorkload may carry one',
    );
  });

  it('reconciles after SnapshotSent with the snapshot Add and Keep uids minus a Del received before it', async () => {
    const { connection, registry, netnsFd, client, tasks, states } = await setup();
    await connection.hello();
    expect(await connection.request({ keep: { uid: 'kept-1' } })).toEqual({ ack: {} });
    expect(await connection.request(addRequest('added-1', info), [netnsFd])).toEqual({ ack: {} });
    expect(await connection.request({ keep: { uid: 'gone-1' } })).toEqual({ ack: {} });
    // DelWorkload's uid is field 2: bytes written by hand (12 = field 2, length-delimited)
    const del = Buffer.from(`1208 1206${Buffer.from('gone-1').toString('hex')}`.replace(/ /g, ''), 'hex');
    expect(await connection.raw(del)).toEqual({ ack: {} });
    expect(await connection.request({ snapshotSent: {} })).toEqual({ ack: {} });
    expect(registry.calls.map((call) => call.op)).toEqual(['add', 'reconcile']); // the Del only left the snapshot
    expect(registry.calls[1]).toEqual({ op: 'reconcile', kept: ['added-1', 'kept-1'] });
    expect(client.status()).toMatchObject({ state: { state: 'synced' }, snapshotReceived: true, ready: true });
    expect(tasks.size).toBe(0);
    expect(stateNames(states)).toEqual(['connecting', 'hello-sent', 'receiving-snapshot', 'synced']);
  });

  it('after the snapshot, an Add is started and a Del goes to the registry', async () => {
    const { connection, registry, netnsFd } = await setup();
    await connection.hello();
    expect(await connection.request({ snapshotSent: {} })).toEqual({ ack: {} });
    expect(await connection.request(addRequest('late-1', info), [netnsFd])).toEqual({ ack: {} });
    expect(await connection.request({ del: { uid: 'late-1' } })).toEqual({ ack: {} });
    expect(registry.calls.map((call) => `${call.op} ${'uid' in call ? call.uid : call.kept.join(',')}`)).toEqual([
      'reconcile ',
      'add late-1',
      'del late-1',
    ]);
  });

  it('NACKs a second SnapshotSent as a protocol error and reconnects', async () => {
    const { agent, connection, client } = await setup();
    await connection.hello();
    expect(await connection.request({ snapshotSent: {} })).toEqual({ ack: {} });
    const response = await connection.request({ snapshotSent: {} });
    expect(response.ack?.error).toMatch(/SnapshotSent after the snapshot was already complete/);
    await connection.closed;
    const again = await agent.connection();
    expect(await again.hello()).toEqual({ version: 'V1' });
    expect(client.status().snapshotReceived).toBe(true); // readiness survives the reconnect
  });

  it('NACKs a Keep after the snapshot naming the pod, and reconnects', async () => {
    const { agent, connection } = await setup();
    await connection.hello();
    await connection.request({ snapshotSent: {} });
    expect((await connection.request({ keep: { uid: 'late-keep' } })).ack?.error).toBe(
      'pod late-keep: KeepWorkload after SnapshotSent (Keep is only valid during the snapshot)',
    );
    await connection.closed;
    expect(await (await agent.connection()).hello()).toEqual({ version: 'V1' });
  });

  it('NACKs a packet longer than 1024 bytes (truncated) and one that does not decode, reconnecting each time', async () => {
    const { agent, connection, registry } = await setup();
    await connection.hello();
    const big = encodeMessage('istio.workload.zds.WorkloadRequest', {
      keep: { uid: 'x'.repeat(1100) },
    } satisfies zds.WorkloadRequest);
    expect(big.length).toBeGreaterThan(1024);
    expect((await connection.raw(big)).ack?.error).toMatch(/larger than 1024 bytes/);
    await connection.closed;
    const again = await agent.connection();
    await again.hello();
    expect((await again.raw(Buffer.from('0a05ff', 'hex'))).ack?.error).toMatch(/^malformed ZDS message/);
    await again.closed;
    const third = await agent.connection();
    await third.hello();
    expect((await third.raw(Buffer.from('3a00', 'hex'))).ack?.error).toMatch(/without a payload/);
    expect(registry.calls).toEqual([]);
  });

  it('reconnects with backoff doubling from 10 ms when the agent restarts, and says hello again', async () => {
    const { agent, connection, states } = await setup();
    await connection.hello();
    await connection.request({ snapshotSent: {} });
    agent.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    agent.listen();
    const again = await agent.connection();
    expect(await again.hello()).toEqual({ version: 'V1' });
    const delays = states.flatMap((state) => (state.state === 'backoff' ? [state.delayMs] : []));
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(delays.slice(0, 3)).toEqual([10, 20, 40]);
    const backoffs = states.filter((state) => state.state === 'backoff');
    expect(backoffs[0]).toMatchObject({ lastError: 'the node agent closed the ZDS connection' });
    expect(backoffs[1]).toMatchObject({ lastError: expect.stringMatching(/cannot connect to the node agent at/) });
    expect(states.at(-1)).toEqual({ state: 'hello-sent' });
  });

  it('NACKs an Add whose proxy fails to start, keeps the connection, and retries the pod until it starts', async () => {
    const { connection, registry, netnsFd, client, tasks } = await setup({ retryIntervalMs: 100 });
    registry.failing.set('flaky-1', 2);
    await connection.hello();
    const response = await connection.request(addRequest('flaky-1', info), [netnsFd]);
    expect(response.ack?.error).toBe(
      'pod flaky-1 (default/web-1): starting its proxy failed: bind 0.0.0.0:15008 in the pod: EADDRINUSE; retrying every 100 ms',
    );
    expect(await connection.request({ snapshotSent: {} })).toEqual({ ack: {} });
    expect(client.status()).toMatchObject({
      snapshotReceived: true,
      ready: false,
      pending: [{ uid: 'flaky-1', name: 'web-1', namespace: 'default', attempts: 1 }],
    });
    expect([...tasks]).toEqual([pendingPodTask('flaky-1')]);
    await registry.calledTimes(4); // add (failed), reconcile, retry (failed), retry (started)
    expect(registry.calls.map((call) => call.op)).toEqual(['add', 'reconcile', 'add', 'add']);
    expect(client.status()).toMatchObject({ ready: true, pending: [] });
    expect(tasks.size).toBe(0);
    expect(client.state).toEqual({ state: 'synced' }); // same connection all along
    expect(await connection.request({ del: { uid: 'flaky-1' } })).toEqual({ ack: {} });
  });

  it('a pending pod left out of the next snapshot is dropped and its fd closed; close() ends in closed', async () => {
    const { agent, connection, registry, netnsFd, client, states } = await setup({ retryIntervalMs: 60_000 });
    registry.failing.set('flaky-2', 100);
    await connection.hello();
    await connection.request(addRequest('flaky-2', info), [netnsFd]);
    expect(client.status().pending).toHaveLength(1);
    connection.close(); // agent hangs up; the next snapshot no longer lists the pod
    const again = await agent.connection();
    await again.hello();
    expect(await again.request({ snapshotSent: {} })).toEqual({ ack: {} });
    expect(client.status()).toMatchObject({ pending: [], ready: true });
    await client.close();
    expect(states.at(-1)).toEqual({ state: 'closed' });
    await again.closed;
  });
});
