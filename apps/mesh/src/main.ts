#!/usr/bin/env node
// `npm start [-- --once] [-- --mode loopback|netns] [-- FILE...]`: run the local ambient mesh from examples/mesh.yaml.
//   default   live view, traffic keeps flowing, Ctrl-C stops every process
//   --once    run every behaviour once, print PASS/FAIL per behaviour, exit 0 only if all hold
//   --mode    netns (pods as network namespaces; root on Linux) or loopback (pods as loopback IPs)
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalMesh } from './local-mesh.ts';
import { readMeshFile } from './mesh-file.ts';
import { chooseMode, type ModeChoice } from './mode.ts';
import { LogBook, scenarios, type Outcome } from './scenarios.ts';
import { renderView, type Tally } from './live-view.ts';

const usage = `usage: npm start [-- [--once] [--mode loopback|netns] [--state-dir DIR] [FILE...]]

Starts a whole ambient mesh on this machine from Kubernetes-style YAML (default examples/mesh.yaml):
a control plane (xDS + CA), one ztunnel per node, the waypoints, sample echo workloads and traffic.
  --once             run each behaviour once, print PASS/FAIL lines, exit 0 only if all hold
  --mode MODE        netns: pods are network namespaces, ztunnels capture their traffic (root on Linux);
                     loopback: pods are loopback IPs, clients use SOCKS5. Default: netns when it can run
  --state-dir DIR    where the CA, tokens and root certificate live (default .mesh)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    once: { type: 'boolean' },
    mode: { type: 'string' },
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
let choice: ModeChoice;
try {
  choice = await chooseMode(values.mode);
} catch (error) {
  console.error(`npm start: ${(error as Error).message}`);
  process.exit(2);
}
const repo = resolve(import.meta.dirname, '../../..');
const files = positionals.length > 0 ? positionals.map((file) => resolve(file)) : [resolve(repo, 'examples/mesh.yaml')];
const stateDir = resolve(values['state-dir'] ?? resolve(repo, '.mesh'));
mkdirSync(stateDir, { recursive: true });

const logs = new LogBook();
let up = false;
const events: string[] = [];
const note = (text: string): void => {
  events.push(`${new Date().toISOString().slice(11, 19)} ${text}`);
  if (!process.stdout.isTTY || values.once) console.log(text);
};
const mesh = new LocalMesh(readMeshFile(files), {
  files,
  stateDir,
  mode: choice.mode,
  onLine: (role, line) => {
    logs.add(role, line);
    // What the control plane says about edits of the YAML: accepted versions, refusals and every problem.
    const message = mesh.displayText(String(line['message']));
    const problem = role === 'controlplane' && (line['level'] === 'error' || line['level'] === 'warn');
    if (problem || (role === 'controlplane' && message.startsWith('config version'))) note(`controlplane: ${message}`);
    // Netns mode: what the node agents say about pods (pino: numeric levels, 40 = warn), once the mesh is up.
    if (role.startsWith('node-agent')) {
      const text = `${String(line['msg'])}${line['pod'] ? ` (${String(line['pod'])})` : ''}`;
      if (Number(line['level']) >= 40) note(`${role}: ${text}`);
      else if (up && (line['msg'] === 'pod ready' || line['msg'] === 'pod removed')) note(`${role}: ${text}`);
    }
  },
  onEvent: (role, text) => note(`${role}: ${text}`),
});

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  await mesh.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

console.log(
  choice.mode === 'netns'
    ? `mode: netns (${choice.reason}): pods are network namespaces, ztunnels capture their traffic in shared mode, no SOCKS5`
    : `mode: loopback (${choice.reason}): pods are loopback IPs, clients reach ztunnel through SOCKS5`,
);
console.log(`starting the local mesh from ${files.join(', ')} (nodes: ${mesh.mesh.nodes.join(', ')}) …`);
try {
  await mesh.start();
} catch (error) {
  console.error(`local mesh failed to start: ${(error as Error).message}`);
  if (choice.mode === 'netns') console.error('(`npm start -- --mode loopback` runs the mesh without namespaces)');
  await shutdown(1);
}
up = true;
console.log(
  'mesh is up: control plane, ' +
    mesh.processes
      .slice(1)
      .map((process) => process.spec.role)
      .join(', '),
);

if (values.once) {
  let failures = 0;
  for (const scenario of scenarios) {
    let outcome: Outcome;
    try {
      outcome = await scenario.run(mesh, logs);
    } catch (error) {
      outcome = { ok: false, detail: (error as Error).message };
    }
    if (!outcome.ok) failures += 1;
    console.log(`${outcome.ok ? 'PASS' : 'FAIL'} ${scenario.title}: ${outcome.detail}`);
  }
  console.log(
    failures === 0 ? `all ${scenarios.length} behaviours hold` : `${failures} of ${scenarios.length} behaviours failed`,
  );
  await shutdown(failures === 0 ? 0 : 1);
}

// Live mode: traffic in a loop, the view refreshed every second.
const tallies = new Map<string, Tally>();
void (async () => {
  while (!stopping) {
    for (const scenario of scenarios) {
      if (stopping) break;
      const tally = tallies.get(scenario.key) ?? { ok: 0, failed: 0 };
      let outcome: Outcome;
      try {
        outcome = await scenario.run(mesh, logs);
      } catch (error) {
        outcome = { ok: false, detail: (error as Error).message };
      }
      tally[outcome.ok ? 'ok' : 'failed'] += 1;
      tally.last = outcome;
      tallies.set(scenario.key, tally);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
})();
const refresh = async (): Promise<void> => {
  const view = await renderView(mesh, files.join(', '), tallies, scenarios, events);
  if (process.stdout.isTTY) process.stdout.write(`\x1b[H\x1b[2J${view}\n`);
  else console.log(`${view}\n`);
};
setInterval(() => void refresh(), process.stdout.isTTY ? 1000 : 10_000);
