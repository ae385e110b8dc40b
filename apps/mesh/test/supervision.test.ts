// The runner's promises about its processes: a ztunnel that dies is reported and restarted with backoff,
// and a port that is already taken names the port and the process role.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalMesh } from '../src/local-mesh.ts';
import { readMeshFile } from '../src/mesh-file.ts';

const file = join(import.meta.dirname, '../../../examples/mesh.yaml');
let mesh: LocalMesh | undefined;
let stateDir = '';
afterEach(async () => {
  await mesh?.stop();
  mesh = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

function newMesh(events: string[]): LocalMesh {
  stateDir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
  return new LocalMesh(readMeshFile([file]), {
    files: [file],
    stateDir,
    onEvent: (role, text) => events.push(`${role}: ${text}`),
  });
}

describe('process supervision', () => {
  it('reports a crashed ztunnel and restarts it with backoff', async () => {
    const events: string[] = [];
    mesh = newMesh(events);
    await mesh.start();
    const ztunnel = mesh.processes.find((process) => process.spec.role === 'ztunnel node-b')!;
    ztunnel.crash();
    const deadline = Date.now() + 20_000;
    while (!(ztunnel.state.state === 'running' && ztunnel.restarts === 1) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(
      events.some((event) => event.startsWith('ztunnel node-b: exited') && event.includes('restarting in 1 s')),
    ).toBe(true);
    expect(ztunnel.state.state).toBe('running');
    expect(ztunnel.restarts).toBe(1);
  }, 60_000);

  it('names the port and the role when a port is taken', async () => {
    const blocker = createServer().listen(15000, '127.0.100.1');
    await once(blocker, 'listening');
    try {
      mesh = newMesh([]);
      await expect(mesh.start()).rejects.toThrow(
        /ztunnel node-a failed to start: .*admin port 127\.0\.100\.1:15000 cannot be bound \(EADDRINUSE\)/,
      );
    } finally {
      blocker.close();
    }
  }, 60_000);
});
