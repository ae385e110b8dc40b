// The dedicated-mode rule (facts §9.3, last bullet): one nat OUTPUT rule in the namespace a dedicated ztunnel
// shares with its workload — TCP not out `lo` and not marked 0x539/0xfff is redirected to 15001.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTopology,
  dedicatedRules,
  detectIptables,
  exec,
  installDedicatedRules,
  isRoot,
  listDedicatedRules,
  removeDedicatedRules,
  startTcpServer,
  tcpExchange,
  type Topology,
} from '../src/index.ts';

describe('dedicatedRules (pure)', () => {
  it('is the one nat OUTPUT rule of Istio’s dedicated-mode script', () => {
    expect(dedicatedRules()).toEqual({
      nat: ['-A OUTPUT ! -o lo -p tcp -m mark ! --mark 0x539/0xfff -j REDIRECT --to-ports 15001'],
    });
  });
});

describe.skipIf(!isRoot)('netns topology: dedicated-mode rule (needs root)', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await createTopology({ nodes: 2, podsPerNode: 0 });
  });
  afterAll(() => topology?.destroy());

  it('installs exactly the rule with a working iptables flavour, keeps other rules, replaces itself, and removes itself', async () => {
    const node = topology.nodes[0]!.namespace;
    const { iptables } = await detectIptables(node);
    const other = '-A OUTPUT -d 192.0.2.1/32 -p udp -j ACCEPT';
    await exec(node, [iptables, '-w', '-t', 'nat', ...other.split(' ')]);
    const installed = await installDedicatedRules(node);
    expect(['nft', 'legacy']).toContain(installed.iptables.flavour);
    expect(installed.nat).toEqual(dedicatedRules().nat);
    expect(await listDedicatedRules(node)).toEqual(dedicatedRules());
    await installDedicatedRules(node); // again: replaced, not duplicated
    expect(await listDedicatedRules(node)).toEqual(dedicatedRules());
    const all = async (): Promise<string[]> =>
      (await exec(node, [iptables, '-w', '-t', 'nat', '-S', 'OUTPUT'])).stdout
        .split('\n')
        .filter((l) => l.startsWith('-A'));
    expect(await all()).toEqual([other, ...dedicatedRules().nat]);
    await removeDedicatedRules(node);
    expect(await listDedicatedRules(node)).toEqual({ nat: [] });
    expect(await all()).toEqual([other]); // what was not ours stays
    await removeDedicatedRules(node); // idempotent
  });

  it('captures the namespace’s outbound TCP on 15001; loopback and sockets marked 0x539/0xfff pass', async () => {
    const [captured, peer] = topology.nodes as [Topology['nodes'][number], Topology['nodes'][number]];
    await installDedicatedRules(captured.namespace);
    const { iptables } = await detectIptables(captured.namespace);
    // Stand-ins for ztunnel's marked sockets: mangle OUTPUT (before nat OUTPUT) marks connections to ports 9090/9091.
    const mark = (port: number, value: string): Promise<unknown> =>
      exec(captured.namespace, [
        iptables,
        '-w',
        ...`-t mangle -A OUTPUT -p tcp --dport ${port} -j MARK --set-mark ${value}`.split(' '),
      ]);
    await mark(9090, '0x1539'); // 0x539 under the 0xfff mask: ztunnel's
    await mark(9091, '0x53a'); // some other mark: still captured
    const servers = await Promise.all([
      startTcpServer(peer.namespace, { port: 8080, tag: 'peer:' }),
      startTcpServer(peer.namespace, { port: 9090, tag: 'peer-marked:' }),
      startTcpServer(peer.namespace, { port: 9091, tag: 'peer-other-mark:' }),
      startTcpServer(captured.namespace, { port: 15001, tag: 'ztunnel:' }),
      startTcpServer(captured.namespace, { port: 8080, host: '127.0.0.1', tag: 'local:' }),
    ]);
    const [plain, marked, otherMark, ztunnel, local] = servers;
    try {
      const out = await tcpExchange(captured.namespace, { host: peer.ip, port: 8080 }, 'out');
      expect(out.received).toBe('ztunnel:out');
      expect(ztunnel?.connections()).toEqual([{ local: '127.0.0.1:15001', remote: out.local }]);
      expect(out.local.startsWith(`${captured.ip}:`)).toBe(true);
      expect(plain?.connections()).toEqual([]);

      expect((await tcpExchange(captured.namespace, { host: peer.ip, port: 9090 }, 'm')).received).toBe(
        'peer-marked:m',
      );
      expect(marked?.connections()).toHaveLength(1);
      expect((await tcpExchange(captured.namespace, { host: peer.ip, port: 9091 }, 'o')).received).toBe('ztunnel:o');
      expect(otherMark?.connections()).toEqual([]);

      // Out `lo`: loopback, and the namespace's own address (routed through lo), are not captured.
      expect((await tcpExchange(captured.namespace, { host: '127.0.0.1', port: 8080 }, 'l')).received).toBe('local:l');
      expect(local?.connections()).toHaveLength(1);
      const self = await tcpExchange(captured.namespace, { host: captured.ip, port: 15001 }, 'self');
      expect(self.received).toBe('ztunnel:self');
      expect(ztunnel?.connections().at(-1)).toEqual({ local: `${captured.ip}:15001`, remote: self.local });

      // Inbound to the captured namespace is not touched (the rule is OUTPUT only).
      expect((await tcpExchange(peer.namespace, { host: captured.ip, port: 15001 }, 'in')).received).toBe('ztunnel:in');

      await removeDedicatedRules(captured.namespace);
      expect((await tcpExchange(captured.namespace, { host: peer.ip, port: 8080 }, 'direct')).received).toBe(
        'peer:direct',
      );
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
});
