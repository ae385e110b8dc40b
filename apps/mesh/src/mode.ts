// Which mode `npm start` runs in: netns when it can (root on Linux, the native helper built, ip and iptables
// installed), loopback otherwise; `--mode` chooses explicitly, and asking for netns where it cannot run
// is an error that says what is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MeshMode } from './local-mesh.ts';

export interface ModeChoice {
  mode: MeshMode;
  /** Why: shown on the first line `npm start` prints. */
  reason: string;
}

/** What netns mode lacks here (empty: it can run). */
export async function netnsMissing(): Promise<string[]> {
  const missing: string[] = [];
  if (process.platform !== 'linux') return [`Linux (this is ${process.platform})`];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync(resolve(import.meta.dirname, '../../node-agent/src/main.ts')))
    missing.push('the node agent (apps/node-agent)');
  for (const tool of ['ip', 'iptables'])
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) missing.push(`the \`${tool}\` command`);
  try {
    const { netnsSupport } = await import('@ambient-ts/netns');
    const support = netnsSupport();
    if (!support.available) missing.push(`@ambient-ts/netns (${support.reason})`);
  } catch (error) {
    missing.push(`@ambient-ts/netns (${(error as Error).message})`);
  }
  return missing;
}

/** The mode to run in; throws naming what is missing when `requested` is netns and it cannot run. */
export async function chooseMode(requested: string | undefined): Promise<ModeChoice> {
  if (requested !== undefined && requested !== 'loopback' && requested !== 'netns')
    throw new Error(`--mode must be loopback or netns, got "${requested}"`);
  if (requested === 'loopback') return { mode: 'loopback', reason: 'chosen with --mode loopback' };
  const missing = await netnsMissing();
  if (requested === 'netns') {
    if (missing.length > 0) throw new Error(`--mode netns needs ${missing.join(', ')}`);
    return { mode: 'netns', reason: 'chosen with --mode netns' };
  }
  return missing.length === 0
    ? { mode: 'netns', reason: 'root on Linux' }
    : { mode: 'loopback', reason: `netns mode needs ${missing.join(', ')}` };
}
