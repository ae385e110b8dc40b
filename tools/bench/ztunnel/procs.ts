// The ztunnel bench's roles (tools/bench/ztunnel/roles.ts) over the shared process plumbing.
import { join } from 'node:path';
import { spawnRole as spawnBenchRole, type Role } from '../common/processes.ts';

export { cpuSeconds, freePort, memoryMiB, otherLoad, stopChild, waitQuiet, type Role } from '../common/processes.ts';

const rolesFile = join(import.meta.dirname, 'roles.ts');

/** Start `roles.ts <role>` (inside `namespace` when given) and wait for its `READY <json>` line. */
export function spawnRole(role: string, config: Record<string, unknown>, namespace?: string): Promise<Role> {
  return spawnBenchRole(rolesFile, role, config, namespace ? { namespace } : {});
}
