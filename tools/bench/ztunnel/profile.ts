// Summarise a V8 .cpuprofile (from `--cpu-prof`): self and inclusive time by function and self time by
// package, so a bench run with --cpu-prof says where a ztunnel spends its CPU. Only samples after
// --skip seconds count (leave out start-up: module loading, type stripping, first certificates).
//   npx node tools/bench/ztunnel/profile.ts <file.cpuprofile> [--top 25] [--skip 0]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, skip: { type: 'string', default: '0' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: profile.ts <file.cpuprofile> [--top 25] [--skip seconds]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const skipUs = Number(values.skip) * 1e6;
const selfUs = new Map<number, number>();
let clock = 0;
profile.samples.forEach((id, index) => {
  clock += profile.timeDeltas[index] ?? 0;
  if (clock >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});

/** Where a frame lives: a workspace package, an npm package, node internals, or V8/native. */
function area(url: string): string {
  if (!url) return '(native / V8 / kernel)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (workspace && !url.includes('node_modules')) return `${workspace[1]}/${workspace[2]}`;
  const npm = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  return npm ? `npm:${npm[1]}` : url;
}

const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? ` ${url.replace(/^.*\/(packages|apps|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'}${where}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const areas = new Map<string, number>();
let busy = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  if (node.callFrame.functionName === '(idle)') continue;
  busy += us;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  areas.set(area(node.callFrame.url), (areas.get(area(node.callFrame.url)) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}
const show = (title: string, map: Map<string, number>, top: number): void => {
  console.log(`\n${title} (share of busy time)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
};
const top = Number(values.top);
console.log(
  `${file}: ${(clock / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(2)} s busy after ${values.skip} s`,
);
show('self time by area', areas, 15);
show('self time by function', self, top);
show('inclusive time by function', inclusive, top);
