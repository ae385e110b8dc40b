// The hbone bench's roles (tools/bench/hbone/roles.ts, with --expose-gc) over the shared process plumbing.
import { join } from 'node:path';
import { spawnRole as spawnBenchRole, type Role } from '../common/processes.ts';

export { cpuSeconds, type Role as Child } from '../common/processes.ts';

const rolesFile = join(import.meta.dirname, 'roles.ts');

/** Start a role and wait for its READY line; it is added to `all` so the bench can stop everything. */
export function spawnRole(role: string, config: Record<string, unknown>, all: Role[]): Promise<Role> {
  return spawnBenchRole(rolesFile, role, config, { nodeArgs: ['--expose-gc'], track: all });
}

/** One rate measurement: a fresh server role and a rate role against it. */
export async function rateRun(
  serverRole: string,
  rateRole: string,
  config: Record<string, unknown>,
): Promise<Record<string, number>> {
  const all: Role[] = [];
  try {
    const server = await spawnRole(serverRole, config, all);
    const result = await spawnRole(rateRole, { ...config, server: server.info, serverPid: server.pid }, all);
    return result.info as Record<string, number>;
  } finally {
    for (const child of all) child.kill();
  }
}
