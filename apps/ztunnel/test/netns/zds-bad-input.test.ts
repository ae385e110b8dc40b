// Bad input over ZDS end to end (issue 12 "Bad input", facts §9.1, §12.2): the fake CNI agent sends ztunnel an
// fd that is not a namespace (a regular file, a socket), an Add without fd, bytes that are no WorkloadRequest, a
// message cut short, one larger than 1024 bytes, and a second SnapshotSent; and a pod's namespace vanishes after
// its Add. Each gets a NACK saying what was wrong (naming the pod where the message names one) and a warning
// in ztunnel's log, then — being a protocol error — ztunnel drops the connection and reconnects, and the agent
// re-sends its snapshot (the running pods keep their proxies: same namespace). Throughout, an already-running
// pod keeps carrying traffic: bytes go through it after every case, also while ztunnel is reconnecting.
// Root and the native addon only: otherwise skipped by name.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, type zds } from '@ambient-ts/istio-api';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh, type NodeZtunnel } from './harness.ts';
import { awaitLogMentioning, logsMentioning } from './mesh-observe.ts';
import { PodApps } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;
const encode = (request: zds.WorkloadRequest) => encodeMessage('istio.workload.zds.WorkloadRequest', request);
const info = (name: string) => ({ name, namespace: 'default', serviceAccount: name });
const uidOf = (name: string) => `cluster1//v1/Pod/default/${name}`;

describe.skipIf(!support.available)(`shared mode: bad input over ZDS${suffix}`, () => {
  let mesh: NetnsMesh;
  let node: NodeZtunnel;
  const apps = new PodApps();
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-zds-bad-'));
  const file = join(dir, 'not-a-namespace');
  let socketOwner: Server;

  beforeAll(async () => {
    writeFileSync(file, 'just a file\n');
    socketOwner = createServer().listen(0, '127.0.0.1');
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 2,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1' },
      ],
    });
    node = mesh.ztunnel('node0');
    await apps.server(mesh.workload('server').pod, 8080, 'double');
  });

  afterAll(async () => {
    await apps.close();
    socketOwner?.close();
    await mesh?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The running pods carry traffic: bytes through client → server (HBONE inside both pods). */
  async function expectTraffic(text: string) {
    const server = mesh.workload('server');
    expect(await apps.exchange(mesh.workload('client').pod, { host: server.ip, port: 8080 }, text)).toBe(text + text);
  }

  /**
   * After a protocol error: the old connection is closed by ztunnel, the running pods still carry traffic while
   * it reconnects, and on the new connection the agent re-sends its snapshot (both pods, same namespaces).
   */
  async function expectReconnect(label: string) {
    const old = node.zds;
    await old.closed;
    await expectTraffic(`${label}-while-reconnecting`);
    const next = await node.agent.connection();
    expect(await next.hello()).toEqual({ version: 'V1' });
    node.zds = next;
    for (const name of ['client', 'server']) expect((await mesh.addPod(name)).ack?.error ?? '').toBe('');
    expect((await next.request({ snapshotSent: {} })).ack?.error ?? '').toBe('');
    await expectTraffic(`${label}-after`);
  }

  /** The warning ztunnel logged for a protocol error, with its code. */
  async function protocolWarning(code: string) {
    const lines = await awaitLogMentioning(mesh, 'node0', `"code":"${code}"`);
    const line = lines.at(-1)!;
    expect(line).toMatchObject({ level: 'warn', scope: 'inpod', message: 'ZDS protocol error, NACK and reconnect' });
    return String(line['error']);
  }

  it('an Add whose fd is a regular file: NACK naming the pod, warning, reconnect; the running pod carries on', async () => {
    await expectTraffic('before');
    const fd = openSync(file, 'r');
    let response: zds.WorkloadResponse;
    try {
      response = await node.zds.raw(encode({ add: { uid: uidOf('bad-file'), workloadInfo: info('bad-file') } }), [fd]);
    } finally {
      closeSync(fd);
    }
    expect(response.ack?.error).toMatch(
      new RegExp(`^pod ${uidOf('bad-file')}: the fd passed with AddWorkload is not a network namespace`),
    );
    expect(await protocolWarning('ZDS_NOT_A_NAMESPACE')).toContain(`pod ${uidOf('bad-file')}`);
    await expectReconnect('file');
  });

  it('an Add whose fd is a socket: NACK naming the pod, reconnect', async () => {
    const { fdOf } = await import('@ambient-ts/netns');
    const response = await node.zds.raw(
      encode({ add: { uid: uidOf('bad-socket'), workloadInfo: info('bad-socket') } }),
      [fdOf(socketOwner)],
    );
    expect(response.ack?.error).toMatch(
      new RegExp(`^pod ${uidOf('bad-socket')}: the fd passed with AddWorkload is not a network namespace`),
    );
    await expectReconnect('socket');
  });

  it('an Add without fd: NACK naming the pod, reconnect', async () => {
    const response = await node.zds.raw(encode({ add: { uid: uidOf('no-fd'), workloadInfo: info('no-fd') } }));
    expect(response.ack?.error).toBe(
      `pod ${uidOf('no-fd')}: AddWorkload without a network namespace fd (exactly one is required)`,
    );
    expect(await protocolWarning('ZDS_FD_MISSING')).toContain(`pod ${uidOf('no-fd')}`);
    await expectReconnect('no-fd');
  });

  it('bytes that are no WorkloadRequest: NACK (malformed), reconnect', async () => {
    const response = await node.zds.raw(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x13]));
    expect(response.ack?.error).toMatch(/^malformed ZDS message \(7 bytes\)/);
    await protocolWarning('ZDS_MALFORMED');
    await expectReconnect('garbage');
  });

  it('a message cut short: NACK (malformed), reconnect', async () => {
    const whole = encode({ add: { uid: uidOf('cut'), workloadInfo: info('cut') } });
    const response = await node.zds.raw(whole.subarray(0, whole.length - 5));
    expect(response.ack?.error).toMatch(new RegExp(`^malformed ZDS message \\(${whole.length - 5} bytes\\)`));
    await expectReconnect('cut');
  });

  it('a message larger than 1024 bytes: NACK (truncated), reconnect', async () => {
    const big = encode({ add: { uid: uidOf(`big-${'x'.repeat(1500)}`), workloadInfo: info('big') } });
    expect(big.length).toBeGreaterThan(1024);
    const fd = openSync(`/var/run/netns/${mesh.workload('server').pod.namespace}`, 'r');
    let response: zds.WorkloadResponse;
    try {
      response = await node.zds.raw(big, [fd]);
    } finally {
      closeSync(fd);
    }
    expect(response.ack?.error).toMatch(/^ZDS message larger than 1024 bytes \(truncated to 1024\)/);
    await protocolWarning('ZDS_TRUNCATED');
    await expectReconnect('big');
  });

  it('a second SnapshotSent: NACK (out of sequence), reconnect', async () => {
    const response = await node.zds.request({ snapshotSent: {} });
    expect(response.ack?.error).toMatch(/SnapshotSent after the snapshot was already complete/);
    await protocolWarning('ZDS_OUT_OF_SEQUENCE');
    await expectReconnect('snapshot');
  });

  it('a pod whose namespace vanishes after its Add: the others carry on, its Del is ACKed', async () => {
    const pod = await mesh.topology.addPod('node0', { name: 'ephemeral' });
    const uid = uidOf('ephemeral');
    const fd = openSync(`/var/run/netns/${pod.namespace}`, 'r');
    try {
      expect((await node.zds.request({ add: { uid, workloadInfo: info('ephemeral') } }, [fd])).ack?.error ?? '').toBe(
        '',
      );
    } finally {
      closeSync(fd);
    }
    await mesh.topology.removePod(pod);
    await expectTraffic('vanished');
    const pods = async () =>
      (
        (await (await node.started.admin('/config_dump')).json()) as {
          inpod: { pods: { uid: string; state: string }[] };
        }
      ).inpod.pods;
    expect((await pods()).find((entry) => entry.uid === uid)).toMatchObject({ state: 'running' });
    expect((await node.zds.request({ del: { uid } })).ack?.error ?? '').toBe('');
    expect((await pods()).map((entry) => entry.uid).sort()).toEqual([uidOf('client'), uidOf('server')]);
    expect(logsMentioning(mesh, 'node0', uid).some((line) => line['message'] === 'pod deleted')).toBe(true);
    await expectTraffic('after-vanished');
    // ZDS stayed up throughout: no reconnect for this one.
    const status = ((await (await node.started.admin('/config_dump')).json()) as { inpod: { zds: unknown } }).inpod.zds;
    expect(status).toMatchObject({ state: { state: 'synced' }, ready: true });
  });
});
