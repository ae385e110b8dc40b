// The node-agent command as the mesh runner starts it: --topology (adopted), --pods, --uds; SIGTERM exits 0
// keeping the namespaces unless --cleanup; a bad pods file exits 2, no iptables exits 1, each with one clear line.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsSupport } from '@ambient-ts/netns';
import { createTopology, isRoot, listInpodRules, listNamespaces, run, type Topology } from '@ambient-ts/netns-topology';
import { ZtunnelZds } from './ztunnel-zds.ts';

const support = netnsSupport();
const reason = !isRoot ? 'needs root' : !support.available ? `needs the native addon (${support.reason})` : '';
const MAIN = join(import.meta.dirname, '../src/main.ts');

interface Run {
  output: () => string;
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function agent(args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, ['--conditions=ambient-ts-source', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    output: () => out,
    exited,
    kill: (signal) => child.kill(signal),
    async waitFor(text, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`node-agent printed no "${text}": ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

describe.skipIf(reason !== '')(`node-agent command${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let topology: Topology;
  let dir: string;
  let podsFile: string;
  let uds: string;

  beforeAll(async () => {
    topology = await createTopology({ nodes: 1, podsPerNode: 0 });
    dir = mkdtempSync(join(tmpdir(), 'node-agent-cli-'));
    podsFile = join(dir, 'pods.yaml');
    uds = join(dir, 'zds', 'ztunnel.sock'); // its directory is made
    writeFileSync(
      podsFile,
      'node: node0\npods:\n  - name: web\n    namespace: default\n    serviceAccount: web\n    ip: 10.0.2.20\n',
    );
  });

  afterAll(async () => {
    await topology?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves ztunnel, exits 0 on SIGTERM keeping the namespaces, and a second run with --cleanup removes them', async () => {
    const first = agent(['--topology', topology.network, '--pods', podsFile, '--uds', uds]);
    await first.waitFor('node agent ready');
    const ztunnel = new ZtunnelZds(uds);
    try {
      expect(await ztunnel.waitFor(2)).toEqual([
        'add cluster1//v1/Pod/default/web',
        'reconcile cluster1//v1/Pod/default/web',
      ]);
    } finally {
      await ztunnel.stop();
    }
    const namespace = `${topology.node('node0').namespace}-p20`;
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('namespaces kept (--cleanup removes them)');
    expect(await listNamespaces()).toContain(namespace);

    // A new agent adopts the pod namespace it finds (same address, same namespace) and cleans up on SIGTERM.
    const second = agent(['--topology', topology.network, '--pods', podsFile, '--uds', uds, '--cleanup']);
    await second.waitFor('node agent ready');
    expect((await listInpodRules(namespace)).nat.length).toBeGreaterThan(0);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await listNamespaces()).not.toContain(namespace);
  });

  it('a pods file that does not validate at start: exit 2 naming the file, line and field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'node: node0\npods:\n  - name: web\n    namespace: default\n    ip: 192.168.1.1\n');
    const run = agent(['--topology', topology.network, '--pods', bad, '--uds', join(dir, 'bad.sock')]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain(
      `${bad}:5: pods[0].ip: \\"192.168.1.1\\" is not a pod address 10.0.<node id>.<2..253>`,
    );
    const usage = agent(['--topology', topology.network]);
    expect(await usage.exited).toBe(2);
    expect(usage.output()).toContain('node-agent: --pods is required');
  });

  it('without iptables: exit 1 with a clear error, and no pod is made', async () => {
    // A PATH with ip but no iptables (the agent finds both through PATH, inside the namespace too).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const ip = (await run(['sh', '-c', 'command -v ip'])).stdout.trim();
    symlinkSync(ip, join(bin, 'ip'));
    const ours = async () => (await listNamespaces()).filter((name) => name.startsWith(topology.network));
    const before = await ours();
    const noIptables = agent(['--topology', topology.network, '--pods', podsFile, '--uds', join(dir, 'x.sock')], {
      ...process.env,
      PATH: bin,
    });
    expect(await noIptables.exited).toBe(1);
    expect(noIptables.output()).toContain(
      'the node agent needs iptables to install the in-pod rules: no working iptables',
    );
    expect(noIptables.output()).toContain("install Debian's iptables package");
    expect(await ours()).toEqual(before);
  });
});
