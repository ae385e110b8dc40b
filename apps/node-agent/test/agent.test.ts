// The node agent against our ztunnel's real ZDS client (in its own process, ztunnel-zds.ts), with real pod
// namespaces in a throwaway topology, real iptables rules and real fds over SCM_RIGHTS. Needs root and the native
// addon of @ambient-ts/netns; otherwise skipped with the reason in the title.
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceId, netnsSupport } from '@ambient-ts/netns';
import {
  createTopology,
  inpodRules,
  isRoot,
  listInpodRules,
  listNamespaces,
  run,
  startTcpServer,
  tcpExchange,
  type Topology,
} from '@ambient-ts/netns-topology';
import { NodeAgent, type NodeAgentStatus, type PodsFileError } from '../src/index.ts';
import { ZtunnelZds } from './ztunnel-zds.ts';

const support = netnsSupport();
const reason = !isRoot ? 'needs root' : !support.available ? `needs the native addon (${support.reason})` : '';
const title = (what: string) => (reason ? `${what} — skipped: ${reason}` : what);

const uid = (name: string) => `cluster1//v1/Pod/default/${name}`;
const pod = (name: string, ip: string, extra = '') =>
  `  - { name: ${name}, namespace: default, serviceAccount: sa-${name}, ip: ${ip}${extra} }`;

async function until<T>(what: string, read: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(reason !== '')(title('node agent with ztunnel’s ZDS client'), () => {
  let topology: Topology;
  let dir: string;
  let podsFile: string;
  let uds: string;
  let agent: NodeAgent;
  const peers: ZtunnelZds[] = [];
  const fileErrors: PodsFileError[] = [];
  const podErrors: string[] = [];
  const peer = (options?: { failing?: Record<string, number> }) => {
    const zds = new ZtunnelZds(uds, options);
    peers.push(zds);
    return zds;
  };
  /** Replaces the file the way the mesh runner does (write, rename). */
  const writePods = (...lines: string[]) => {
    writeFileSync(`${podsFile}.tmp`, ['node: node1', 'pods:', ...lines, ''].join('\n'));
    renameSync(`${podsFile}.tmp`, podsFile);
  };
  const podStatus = (s: NodeAgentStatus, name: string) => s.pods.find((p) => p.key === `default/${name}`);
  const netnsOf = (name: string) => podStatus(agent.status(), name)?.netns ?? '';
  const idOf = (namespace: string) => {
    const fd = openSync(`/var/run/netns/${namespace}`, 'r');
    try {
      // @ambient-ts/netns is what ztunnel checks the fd with
      return namespaceId(fd);
    } finally {
      closeSync(fd);
    }
  };

  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 1 });
    dir = mkdtempSync(join(tmpdir(), 'node-agent-'));
    podsFile = join(dir, 'pods.yaml');
    uds = join(dir, 'ztunnel.sock');
    writePods(pod('alpha', '10.0.3.10'), pod('beta', '10.0.3.11'));
    agent = new NodeAgent({
      podsFile,
      topology,
      udsPath: uds,
      ackTimeoutMs: 3000,
      retryMs: 300,
      debounceMs: 50,
      pollMs: 200,
    });
    agent.on('pods-file-error', (error) => fileErrors.push(error));
    agent.on('pod-error', (_key, message) => podErrors.push(message));
    await agent.start();
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await agent?.stop();
    await topology?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes each pod’s namespace on its node with Istio’s in-pod rules, before any ztunnel connects', async () => {
    const status = agent.status();
    expect(status.node).toBe('node1');
    expect(status.pods.map((p) => [p.key, p.uid, p.ip, p.state])).toEqual([
      ['default/alpha', uid('alpha'), '10.0.3.10', 'ready'],
      ['default/beta', uid('beta'), '10.0.3.11', 'ready'],
    ]);
    const alpha = netnsOf('alpha');
    expect(alpha).toBe(`${topology.node('node1').namespace}-p10`);
    const expected = inpodRules();
    expect(await listInpodRules(alpha)).toEqual({ mangle: expected.mangle, nat: expected.nat });
    expect((await run(['ip', '-n', alpha, 'rule', 'show'])).stdout).toContain('fwmark 0x111/0xfff lookup 100');
    // Captured: the pod's outbound TCP lands on 15001 inside it; and it is routed like every topology pod
    // (node0's pod reaches its 15008, which the rules leave alone).
    const beta = agent.status().pods[1]!;
    const other = topology.pod('node0-pod0');
    const servers = await Promise.all([
      startTcpServer(other.namespace, { port: 8080, tag: 'server:' }),
      startTcpServer(beta.netns!, { port: 15001, tag: 'outbound:' }),
      startTcpServer(beta.netns!, { port: 15008, tag: 'hbone:' }),
    ]);
    try {
      expect((await tcpExchange(beta.netns!, { host: other.ip, port: 8080 }, 'out')).received).toBe('outbound:out');
      const inbound = await tcpExchange(other.namespace, { host: beta.ip, port: 15008 }, 'in');
      expect(inbound.received).toBe('hbone:in');
      expect(servers[2]!.connections()).toEqual([{ local: '10.0.3.11:15008', remote: inbound.local }]);
      expect(servers[0]!.connections()).toEqual([]);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });

  it('sends ztunnel an Add per pod with the pod’s own netns fd, then SnapshotSent', async () => {
    const ztunnel = peer();
    expect(await ztunnel.waitFor(3)).toEqual([
      `add ${uid('alpha')}`,
      `add ${uid('beta')}`,
      `reconcile ${uid('alpha')},${uid('beta')}`,
    ]);
    const adds = ztunnel.calls().filter((c) => c.op === 'add');
    expect(adds.map((c) => c.op === 'add' && c.info)).toEqual([
      { name: 'alpha', namespace: 'default', serviceAccount: 'sa-alpha' },
      { name: 'beta', namespace: 'default', serviceAccount: 'sa-beta' },
    ]);
    expect(adds.map((c) => c.op === 'add' && c.netnsId)).toEqual([idOf(netnsOf('alpha')), idOf(netnsOf('beta'))]);
    expect(idOf(netnsOf('alpha'))).not.toEqual(idOf(netnsOf('beta')));
    await until(
      'ztunnel synced',
      () =>
        ztunnel
          .calls()
          .filter((c) => c.op === 'state')
          .map((c) => c.op === 'state' && c.state),
      (states) => states.includes('synced'),
    );
    const status = await until(
      'snapshot acked',
      () => agent.status(),
      (s) => s.connections[0]?.snapshotAcked === true,
    );
    expect(status.connections).toMatchObject([{ phase: 'open', newest: true, acks: 3, nacks: 0 }]);
    expect(status.pods.every((p) => p.acked)).toBe(true);
  });

  it('follows the pods file: a removed pod is Del’ed (uid) and its namespace goes, a new one is made and Added', async () => {
    const [ztunnel] = peers;
    const alpha = netnsOf('alpha');
    writePods(pod('beta', '10.0.3.11'), pod('gamma', '10.0.3.12'));
    expect((await ztunnel!.waitFor(5)).slice(3)).toEqual([`del ${uid('alpha')}`, `add ${uid('gamma')}`]);
    await until(
      'alpha removed',
      () => listNamespaces(),
      (names) => !names.includes(alpha),
    );
    const status = await until(
      'gamma acked',
      () => agent.status(),
      (s) => podStatus(s, 'gamma')?.acked === true,
    );
    expect(status.pods.map((p) => p.key)).toEqual(['default/beta', 'default/gamma']);
    const gammaAdd = ztunnel!.calls().findLast((c) => c.op === 'add');
    expect(gammaAdd?.op === 'add' && gammaAdd.netnsId).toEqual(idOf(netnsOf('gamma')));
  });

  it('a pods file that does not validate is one error naming file, line and field; the pods in force stay', async () => {
    const [ztunnel] = peers;
    const before = ztunnel!.ops().length;
    writePods(pod('beta', '10.0.3.11'), '  - { name: delta, namespace: default, ip: 10.0.2.13 }');
    const error = await until(
      'file error',
      () => fileErrors.at(-1),
      (e) => e !== undefined,
    );
    expect(error?.code).toBe('PODS_FILE_INVALID');
    expect(error?.message).toContain(
      `${podsFile}:4: pods[1].ip: 10.0.2.13 is not on node node1 (its pods are 10.0.3.x)`,
    );
    await agent.settled();
    expect(agent.status().podsFile.error).toContain('pods[1].ip');
    expect(agent.status().pods.map((p) => [p.key, p.state])).toEqual([
      ['default/beta', 'ready'],
      ['default/gamma', 'ready'],
    ]);
    writePods('  - [not, yaml: at all');
    // (the watch and the stat fallback may both report one edit: wait for the YAML error itself)
    const yamlError = new RegExp(`${podsFile}:\\d+: \\(file\\): Flow sequence`);
    await until(
      'the YAML error',
      () => fileErrors.at(-1)?.message ?? '',
      (message) => yamlError.test(message),
    );
    expect(ztunnel!.ops().length).toBe(before);
    expect(agent.status().pods).toHaveLength(2);
  });

  it('a ztunnel that reconnects gets a fresh snapshot', async () => {
    writePods(pod('beta', '10.0.3.11'), pod('gamma', '10.0.3.12'));
    await until(
      'file valid again',
      () => agent.status().podsFile.error,
      (e) => e === undefined,
    );
    await peers[0]!.stop();
    const ztunnel = peer();
    expect(await ztunnel.waitFor(3)).toEqual([
      `add ${uid('beta')}`,
      `add ${uid('gamma')}`,
      `reconcile ${uid('beta')},${uid('gamma')}`,
    ]);
    await until(
      'one connection',
      () => agent.status().connections,
      (c) => c.length === 1 && c[0]!.snapshotAcked,
    );
  });

  it('while two ztunnels overlap (a restart) the newest gets the updates; the old one leaving changes nothing', async () => {
    const old = peers[1]!;
    const fresh = peer();
    await fresh.waitFor(3);
    await until(
      'two connections',
      () => agent.status().connections,
      (c) => c.length === 2 && c[1]!.snapshotAcked,
    );
    const oldOps = old.ops().length;
    writePods(pod('beta', '10.0.3.11'), pod('gamma', '10.0.3.12'), pod('delta', '10.0.3.13'));
    expect((await fresh.waitFor(4)).at(-1)).toBe(`add ${uid('delta')}`);
    expect(old.ops()).toHaveLength(oldOps);
    await old.stop();
    const status = await until(
      'old gone',
      () => agent.status().connections,
      (c) => c.length === 1,
    );
    expect(status[0]).toMatchObject({ newest: true, phase: 'open' });
    expect(fresh.calls().filter((c) => c.op === 'state' && c.state === 'backoff')).toEqual([]);
  });

  it('an Add that ztunnel NACKs is re-sent until it is accepted', async () => {
    await Promise.all(peers.map((p) => p.stop()));
    const ztunnel = peer({ failing: { [uid('eps')]: 2 } });
    await ztunnel.waitFor(4);
    writePods(pod('beta', '10.0.3.11'), pod('gamma', '10.0.3.12'), pod('delta', '10.0.3.13'), pod('eps', '10.0.3.14'));
    const ops = await ztunnel.waitFor((o) => o.includes(`add ${uid('eps')}`));
    expect(ops.slice(4)).toEqual([`add! ${uid('eps')}`, `add! ${uid('eps')}`, `add ${uid('eps')}`]);
    const status = await until(
      'eps acked',
      () => agent.status(),
      (s) => podStatus(s, 'eps')?.acked === true,
    );
    expect(status.connections[0]).toMatchObject({ nacks: 2 });
    expect(podStatus(status, 'eps')?.error).toBeUndefined();
  });

  it('a pod whose namespace vanished is reported by name, the others keep going, and it is made again', async () => {
    const ztunnel = peers.at(-1)!;
    await ztunnel.stop();
    const gone = netnsOf('gamma');
    await run(['ip', 'netns', 'del', gone]);
    podErrors.length = 0;
    const next = peer();
    const ops = await next.waitFor((o) => o.some((op) => op.startsWith('reconcile')));
    expect(ops).toEqual([
      `add ${uid('beta')}`,
      `add ${uid('delta')}`,
      `add ${uid('eps')}`,
      `reconcile ${uid('beta')},${uid('delta')},${uid('eps')}`,
    ]);
    expect(podErrors[0]).toBe(`pod default/gamma (${uid('gamma')}): its network namespace ${gone} is gone (ENOENT)`);
    // re-made after retryMs and handed to ztunnel again
    expect((await next.waitFor(5)).at(-1)).toBe(`add ${uid('gamma')}`);
    const gammaAdd = next.calls().findLast((c) => c.op === 'add');
    expect(gammaAdd?.op === 'add' && gammaAdd.netnsId).toEqual(idOf(netnsOf('gamma')));
    expect(await listInpodRules(netnsOf('gamma'))).toEqual({ mangle: inpodRules().mangle, nat: inpodRules().nat });
  });

  it('refuses a pod whose AddWorkload would not fit in 1024 bytes, naming it; the others stay', async () => {
    podErrors.length = 0;
    const long = 'x'.repeat(1000);
    writePods(
      pod('beta', '10.0.3.11'),
      pod('gamma', '10.0.3.12'),
      pod('delta', '10.0.3.13'),
      pod('eps', '10.0.3.14'),
      pod('big', '10.0.3.15', `, uid: ${long}`),
    );
    const status = await until(
      'big refused',
      () => agent.status(),
      (s) => podStatus(s, 'big')?.state === 'refused',
    );
    expect(podErrors[0]).toMatch(
      new RegExp(
        `^pod default/big \\(${long}\\): its AddWorkload would be 10\\d\\d bytes, more than ZDS's 1024; refused`,
      ),
    );
    expect(podStatus(status, 'big')?.netns).toBeUndefined();
    expect(status.pods.filter((p) => p.state === 'ready')).toHaveLength(4);
  });

  it('stop({ cleanup }) Dels every pod and removes its namespace', async () => {
    const ztunnel = peers.at(-1)!;
    const namespaces = agent.status().pods.flatMap((p) => (p.netns ? [p.netns] : []));
    expect(namespaces).toHaveLength(4);
    const before = ztunnel.ops().length;
    await agent.stop({ cleanup: true });
    expect(ztunnel.ops().slice(before).sort()).toEqual(
      ['beta', 'gamma', 'delta', 'eps'].map((name) => `del ${uid(name)}`).sort(),
    );
    const left = await listNamespaces();
    expect(namespaces.filter((name) => left.includes(name))).toEqual([]);
    expect(left).toContain(topology.pod('node0-pod0').namespace); // the topology's own pod is not the agent's
  });
});
