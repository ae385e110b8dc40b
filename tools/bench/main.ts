// `npm run bench -- <area> [args]`: runs tools/bench/<area>/main.ts on Node 24 with workspace sources.
// Every benchmark measures its baseline in the same run and prints ratios; none gates CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const areas = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(here, entry.name, 'main.ts')))
  .map((entry) => entry.name)
  .sort();
const [area, ...rest] = process.argv.slice(2);
if (!area || area === '--help' || !areas.includes(area)) {
  console.log(`usage: npm run bench -- <area> [options]\n\nareas: ${areas.join(', ') || '(none yet)'}`);
  process.exit(area && area !== '--help' ? 2 : 0);
}
const result = spawnSync(
  process.execPath,
  ['--expose-gc', '--conditions=ambient-ts-source', join(here, area, 'main.ts'), ...rest],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
