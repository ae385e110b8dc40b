// Netns mode follows edits of the mesh YAML the way the control plane does: a refused edit changes no pod, an
// accepted one moves the pod (the node agent makes its namespace anew) and its echo app follows; stop() leaves
// no namespace and no host link behind.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamespaces, run } from '@ambient-ts/netns-topology';
import { LocalMesh } from '../src/local-mesh.ts';
import { readMeshFile } from '../src/mesh-file.ts';
import { netnsMissing } from '../src/mode.ts';
import { LogBook, scenarios } from '../src/scenarios.ts';

const missing = await netnsMissing();

describe.skipIf(missing.length > 0)(
  `netns mode follows edits${missing.length > 0 ? ` (needs ${missing.join(', ')})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-edits-'));
    const file = join(dir, 'mesh.yaml');
    const logs = new LogBook();
    let mesh: LocalMesh;
    const meshToMesh = scenarios.find((scenario) => scenario.key === 'mesh-to-mesh')!;
    const edit = (from: string, to: string): void => {
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(from);
      writeFileSync(file, text.replace(from, to));
    };
    const seen = (role: string, match: (line: Record<string, unknown>) => boolean, since: number) =>
      logs.find(role, match, since, 15_000);
    const message = (line: Record<string, unknown>): string => String(line['message'] ?? line['msg']);

    beforeAll(async () => {
      copyFileSync(join(import.meta.dirname, '../../../examples/mesh.yaml'), file);
      mesh = new LocalMesh(readMeshFile([file]), {
        files: [file],
        stateDir: join(dir, 'state'),
        mode: 'netns',
        onLine: (role, line) => logs.add(role, line),
      });
      await mesh.start();
    }, 120_000);
    afterAll(async () => {
      await mesh?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a refused edit keeps every pod; an accepted one moves echo-v2 and its app; stop removes everything', async () => {
      const plane = mesh.plane!;
      const oldNamespace = plane.namespaceOf('10.0.3.2')!;
      expect(await meshToMesh.run(mesh, logs)).toMatchObject({
        ok: true,
        detail: expect.stringContaining('10.0.3.2:'),
      });

      let mark = logs.mark;
      edit('podIP: 127.0.2.1\n', 'podIP: 127.0.2.300\n');
      expect(await seen('controlplane', (line) => message(line).startsWith('update refused'), mark)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 1500)); // what a wrong reaction would have done by now
      expect(await listNamespaces()).toContain(oldNamespace);
      expect(await meshToMesh.run(mesh, logs)).toMatchObject({ ok: true });

      mark = logs.mark;
      edit('podIP: 127.0.2.300\n', 'podIP: 127.0.2.5\n');
      expect(
        await seen('controlplane', (line) => /^config version 2 accepted/.test(message(line)), mark),
      ).toBeDefined();
      expect(
        await seen(
          'node-agent node-b',
          (line) => message(line) === 'pod ready' && line['pod'] === 'default/echo-v2',
          mark,
        ),
      ).toMatchObject({ ip: '10.0.3.6' });
      const moved = await meshToMesh.run(mesh, logs);
      expect(moved).toMatchObject({ ok: true, detail: expect.stringContaining('10.0.3.6:') });
      expect(await listNamespaces()).not.toContain(oldNamespace);

      const { network } = plane.topology;
      const device = plane.link.device;
      await mesh.stop();
      const deadline = Date.now() + 10_000;
      const leftover = async () => ({
        namespaces: (await listNamespaces()).filter((name) => name.startsWith(network)),
        link: await run(['ip', 'link', 'show', device]).then(
          () => true,
          () => false,
        ),
      });
      while (Date.now() < deadline && JSON.stringify(await leftover()) !== '{"namespaces":[],"link":false}')
        await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await leftover()).toEqual({ namespaces: [], link: false });
      expect(existsSync(join(dir, 'state', 'processes.json'))).toBe(false);
    }, 120_000);
  },
);
