import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addPod,
  adoptTopology,
  createTopology,
  exec,
  formatRules,
  inpodRules,
  installInpodRules,
  isRoot,
  listInpodRules,
  listNamespaces,
  removeInpodRules,
  run,
  startTcpServer,
  sweepStaleNamespaces,
  tcpExchange,
  type Topology,
} from '../src/index.ts';

describe('inpodRules (pure)', () => {
  it('lists the nat rules of facts §9.3 in order, DNS only when asked', () => {
    const plain = inpodRules();
    expect(plain.nat.filter((rule) => rule.includes('15053'))).toEqual([]);
    expect(plain.nat.at(-1)).toBe(
      '-A ISTIO_PRERT ! -d 127.0.0.1/32 -p tcp -m tcp ! --dport 15008 -m mark ! --mark 0x539/0xfff -j REDIRECT --to-ports 15006',
    );
    const withDns = inpodRules({ dns: true });
    expect(withDns.nat.filter((rule) => rule.includes('--to-ports 15053'))).toEqual([
      '-A ISTIO_OUTPUT ! -o lo -p udp -m mark ! --mark 0x539/0xfff -m udp --dport 53 -j REDIRECT --to-ports 15053',
      '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp -m tcp --dport 53 -m mark ! --mark 0x539/0xfff -j REDIRECT --to-ports 15053',
    ]);
    // DNS comes right after the probe ACCEPT and before the 0x111 ACCEPT, as in Istio's script.
    expect(withDns.nat.findIndex((rule) => rule.includes('15053'))).toBe(3);
    expect(withDns.mangle).toContain('-A ISTIO_PRERT -m mark --mark 0x539/0xfff -j CONNMARK --set-xmark 0x111/0xfff');
    expect(formatRules(withDns)).toContain('ip rule add fwmark 0x111/0xfff pref 32764 lookup 100');
  });

  it('refuses topologies outside the address plan', async () => {
    await expect(createTopology({ nodes: 17, podsPerNode: 1 })).rejects.toThrow(/nodes must be 1..16/);
    await expect(createTopology({ nodes: 2, podsPerNode: 127 })).rejects.toThrow(/0..252/);
  });

  it('addPod refuses ids outside 2..253 and an id or name its node already has, before running anything', async () => {
    const node = { name: 'node0', id: 2, namespace: 'atn-none-000000-n2', ip: '172.172.0.2', pods: [] as never[] };
    await expect(addPod(node, { id: 1 })).rejects.toThrow(/pod id must be 2..253, got 1/);
    await expect(addPod(node, { id: 254 })).rejects.toThrow(/2..253/);
    const existing = {
      name: 'web',
      id: 5,
      node,
      namespace: `${node.namespace}-p5`,
      ip: '10.0.2.5',
      gateway: '10.0.2.1',
    };
    const withPod = { ...node, pods: [existing] };
    await expect(addPod(withPod, { id: 5 })).rejects.toThrow(/node0 already has pod web with id 5 \(10\.0\.2\.5\)/);
    await expect(addPod(withPod, { id: 6, name: 'web' })).rejects.toThrow(/already has a pod web/);
  });
});

describe.skipIf(!isRoot)('netns topology: pods reach each other (needs root)', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 2 });
  });
  afterAll(() => topology?.destroy());

  it('gives nodes and pods the §9.4 addresses and names', () => {
    expect(topology.nodes.map((node) => [node.name, node.ip])).toEqual([
      ['node0', '172.172.0.2'],
      ['node1', '172.172.0.3'],
    ]);
    expect(topology.pods.map((pod) => [pod.name, pod.ip])).toEqual([
      ['node0-pod0', '10.0.2.2'],
      ['node0-pod1', '10.0.2.3'],
      ['node1-pod0', '10.0.3.4'],
      ['node1-pod1', '10.0.3.5'],
    ]);
    expect(topology.namespaces()).toHaveLength(7);
    expect(() => topology.pod('node9-pod0')).toThrow(/pods: node0-pod0/);
  });

  it('a pod on the same node and one on another node exchange TCP bytes with the server, source IPs intact', async () => {
    const server = topology.pod('node0-pod0');
    const echo = await startTcpServer(server.namespace, { port: 8080, tag: 'echo:' });
    try {
      const sameNode = await tcpExchange(
        topology.pod('node0-pod1').namespace,
        { host: server.ip, port: 8080 },
        'same node',
      );
      const otherNode = await tcpExchange(
        topology.pod('node1-pod1').namespace,
        { host: server.ip, port: 8080 },
        'other node',
      );
      expect(sameNode.received).toBe('echo:same node');
      expect(otherNode.received).toBe('echo:other node');
      expect(echo.connections()).toEqual([
        { local: '10.0.2.2:8080', remote: sameNode.local },
        { local: '10.0.2.2:8080', remote: otherNode.local },
      ]);
      expect(sameNode.local).toMatch(/^10\.0\.2\.3:/);
      expect(otherNode.local).toMatch(/^10\.0\.3\.5:/);
    } finally {
      await echo.stop();
    }
  });

  it('same-node pods route through their node (no connected /24 in the pod)', async () => {
    const { stdout } = await run(['ip', '-n', topology.pod('node0-pod1').namespace, 'route', 'get', '10.0.2.2']);
    expect(stdout).toMatch(/^10\.0\.2\.2 via 10\.0\.2\.1 dev eth0/);
  });
});

describe.skipIf(!isRoot)(
  'netns topology: pods added and removed one at a time, also by an adopter (needs root)',
  () => {
    let topology: Topology;
    beforeAll(async () => {
      topology = await createTopology({ nodes: 2, podsPerNode: 1 });
    });
    afterAll(() => topology?.destroy());

    it('adoptTopology reads the same nodes and pods back from the namespace names', async () => {
      const adopted = await adoptTopology(topology.network);
      const shape = (t: Topology) => ({
        nodes: t.nodes.map((n) => [n.name, n.id, n.namespace, n.ip]),
        pods: t.pods.map((p) => [p.name, p.id, p.node.name, p.namespace, p.ip, p.gateway]),
      });
      expect(shape(adopted)).toEqual(shape(topology));
      expect(adopted.namespaces().sort()).toEqual(topology.namespaces().sort());
      await expect(adoptTopology(`${topology.network}x`)).rejects.toThrow(/no namespace atn-.*x/);
    });

    it('a pod added through an adopted topology reaches the others and is gone after removePod', async () => {
      const adopted = await adoptTopology(topology.network);
      const late = await adopted.addPod('node1', { id: 9, name: 'late' });
      expect([late.name, late.ip, late.gateway, late.namespace]).toEqual([
        'late',
        '10.0.3.9',
        '10.0.3.1',
        `${topology.network}-n3-p9`,
      ]);
      expect(adopted.node('node1').pods.map((p) => p.name)).toEqual(['node1-pod0', 'late']);
      await expect(adopted.addPod('node1', { id: 9 })).rejects.toThrow(/already has pod late/);
      const auto = await adopted.addPod(adopted.node('node0'));
      expect([auto.name, auto.id, auto.ip]).toEqual(['node0-pod1', 4, '10.0.2.4']); // 2 and 3 are taken
      const server = topology.pod('node0-pod0');
      const echo = await startTcpServer(server.namespace, { port: 8080, tag: 'echo:' });
      try {
        const fromLate = await tcpExchange(late.namespace, { host: server.ip, port: 8080 }, 'late');
        const fromAuto = await tcpExchange(auto.namespace, { host: server.ip, port: 8080 }, 'auto');
        expect([fromLate.received, fromAuto.received]).toEqual(['echo:late', 'echo:auto']);
        expect(fromLate.local).toMatch(/^10\.0\.3\.9:/);
        expect(fromAuto.local).toMatch(/^10\.0\.2\.4:/);
      } finally {
        await echo.stop();
      }
      const node1 = adopted.node('node1').namespace;
      await adopted.removePod('late');
      expect(await listNamespaces()).not.toContain(late.namespace);
      expect((await run(['ip', '-n', node1, 'route', 'show'])).stdout).not.toContain('10.0.3.9');
      expect(() => adopted.pod('late')).toThrow(/no pod late/);
      await adopted.removePod(late); // a missing pod is fine
      // The creator's destroy() (afterAll) also removes the pod its adopter added and did not remove.
      expect((await adoptTopology(topology.network)).pods.map((p) => p.ip)).toContain('10.0.2.4');
    });

    it("the creator's own addPod and removePod keep namespaces() in step", async () => {
      const pod = await topology.addPod('node0', { name: 'mine' });
      expect(topology.namespaces()).toContain(pod.namespace);
      expect(topology.pod('mine').ip).toBe(`10.0.2.${pod.id}`);
      await topology.removePod(pod);
      expect(topology.namespaces()).not.toContain(pod.namespace);
      expect(await listNamespaces()).not.toContain(pod.namespace);
    });
  },
);

describe.skipIf(!isRoot)('netns topology: in-pod iptables rules (needs root)', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 1 });
  });
  afterAll(() => topology?.destroy());

  it('installs exactly the §9.3 rules with a working iptables flavour, and removes them', async () => {
    const pod = topology.pod('node0-pod0').namespace;
    const installed = await installInpodRules(pod, { dns: true });
    expect(['nft', 'legacy']).toContain(installed.iptables.flavour);
    expect(installed.iptables.version).toContain(installed.iptables.flavour === 'nft' ? '(nf_tables)' : '(legacy)');
    const expected = inpodRules({ dns: true });
    expect(await listInpodRules(pod)).toEqual({ mangle: expected.mangle, nat: expected.nat });
    expect((await run(['ip', '-n', pod, 'rule', 'show'])).stdout).toContain(
      '32764:\tfrom all fwmark 0x111/0xfff lookup 100',
    );
    expect((await run(['ip', '-n', pod, 'route', 'show', 'table', '100'])).stdout).toContain('local default dev lo');
    // Installing again replaces rather than duplicates.
    await installInpodRules(pod, { dns: true });
    expect(await listInpodRules(pod)).toEqual({ mangle: expected.mangle, nat: expected.nat });
    await removeInpodRules(pod);
    expect(await listInpodRules(pod)).toEqual({ mangle: [], nat: [] });
    expect((await run(['ip', '-n', pod, 'rule', 'show'])).stdout).not.toContain('0x111');
    await removeInpodRules(pod); // idempotent
  });

  it('captures the pod: outbound to another pod reaches 15001 in the pod, inbound to an app port reaches 15006, 15008 and localhost pass', async () => {
    const captured = topology.pod('node0-pod0');
    const other = topology.pod('node1-pod0');
    await installInpodRules(captured.namespace);
    const servers = await Promise.all([
      startTcpServer(other.namespace, { port: 8080, tag: 'server:' }),
      startTcpServer(captured.namespace, { port: 15001, tag: 'outbound:' }),
      startTcpServer(captured.namespace, { port: 15006, tag: 'inbound:' }),
      startTcpServer(captured.namespace, { port: 15008, tag: 'hbone:' }),
      startTcpServer(captured.namespace, { port: 8080, tag: 'app:' }),
    ]);
    const [server, outbound, inbound, hbone, app] = servers;
    try {
      // Outbound from the captured pod: REDIRECT in nat OUTPUT lands on 127.0.0.1:15001 in the pod's namespace.
      const out = await tcpExchange(captured.namespace, { host: other.ip, port: 8080 }, 'to other pod');
      expect(out.received).toBe('outbound:to other pod');
      expect(outbound?.connections()).toEqual([{ local: '127.0.0.1:15001', remote: out.local }]);
      expect(out.local).toMatch(/^10\.0\.2\.2:/);
      expect(server?.connections()).toEqual([]);

      // Localhost inside the captured pod is not redirected.
      const local = await tcpExchange(captured.namespace, { host: '127.0.0.1', port: 8080 }, 'loopback');
      expect(local.received).toBe('app:loopback');

      // Inbound to the captured pod's app port: REDIRECT in nat PREROUTING lands on 15006 at the pod's own IP.
      const inb = await tcpExchange(other.namespace, { host: captured.ip, port: 8080 }, 'to app port');
      expect(inb.received).toBe('inbound:to app port');
      expect(inbound?.connections()).toEqual([{ local: `${captured.ip}:15006`, remote: inb.local }]);
      expect(inb.local).toMatch(/^10\.0\.3\.3:/);

      // 15008 (HBONE) is exempt from the inbound redirect.
      const tunnel = await tcpExchange(other.namespace, { host: captured.ip, port: 15008 }, 'hbone');
      expect(tunnel.received).toBe('hbone:hbone');
      expect(hbone?.connections()).toHaveLength(1);
      expect(app?.connections()).toEqual([{ local: '127.0.0.1:8080', remote: local.local }]);

      // Without the rules the same connections go where they were addressed.
      await removeInpodRules(captured.namespace);
      expect((await tcpExchange(captured.namespace, { host: other.ip, port: 8080 }, 'direct')).received).toBe(
        'server:direct',
      );
      expect((await tcpExchange(other.namespace, { host: captured.ip, port: 8080 }, 'direct')).received).toBe(
        'app:direct',
      );
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
});

describe.skipIf(!isRoot)('netns topology: cleanup (needs root)', () => {
  const rootLinks = async (): Promise<string[]> =>
    (await run(['ip', '-o', 'link', 'show'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(': ')[1]?.split('@')[0] ?? '');

  it('destroy() removes every namespace and link, kills what still runs there, and can be called again', async () => {
    const before = await rootLinks();
    const topology = await createTopology({ nodes: 2, podsPerNode: 1 });
    const left = await startTcpServer(topology.pod('node0-pod0').namespace, { port: 9000 });
    expect(await listNamespaces()).toEqual(expect.arrayContaining(topology.namespaces()));
    await topology.destroy();
    await topology.destroy();
    expect(await left.process.exited).not.toBe(0);
    const remaining = await listNamespaces();
    expect(remaining.filter((name) => name.startsWith(topology.network))).toEqual([]);
    // Nothing was ever created in the host namespace; whatever new links appeared meanwhile are not ours.
    const ours = /^(br0|eth0|veth\d+)$/;
    expect((await rootLinks()).filter((name) => ours.test(name) && !before.includes(name))).toEqual([]);
  });

  it('destroy() also removes pods another process added through adoptTopology', async () => {
    const topology = await createTopology({ nodes: 1, podsPerNode: 0 });
    const adopted = await adoptTopology(topology.network);
    const pod = await adopted.addPod('node0');
    await topology.destroy();
    expect((await listNamespaces()).filter((name) => name.startsWith(topology.network))).toEqual([]);
    expect(pod.namespace.startsWith(topology.network)).toBe(true);
  });

  it('the sweeper deletes namespaces of a run that is gone and keeps live ones', async () => {
    const pidMax = Number((await run(['cat', '/proc/sys/kernel/pid_max'])).stdout);
    const gone = `atn-${(pidMax + 1).toString(36)}-abcdef-n2`;
    await run(['ip', 'netns', 'add', gone]);
    const topology = await createTopology({ nodes: 1, podsPerNode: 0 });
    try {
      const deleted = await sweepStaleNamespaces();
      expect(deleted).toContain(gone);
      expect(deleted).not.toContain(topology.network);
      expect(await listNamespaces()).not.toContain(gone);
      await exec(topology.network, ['true']); // still there
    } finally {
      await run(['ip', 'netns', 'del', gone]).catch(() => undefined);
      await topology.destroy();
    }
  });
});
