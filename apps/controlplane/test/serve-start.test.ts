// Starting `serve`: what it refuses to start with (port in use, broken YAML, half a CA), and a directory
// of YAML files as input.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADDRESS_TYPE_URL } from '@ambient-ts/istio-api';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPlaneError } from '../src/errors.ts';
import { startControlPlane } from '../src/serve/control-plane.ts';
import type { RunningControlPlane } from '../src/serve/types.ts';
import { eventually, exampleYaml, LogCapture, xdsClient } from './serve-support.ts';

let dir: string;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function temp(): string {
  dir = mkdtempSync(join(tmpdir(), 'controlplane-start-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'mesh.yaml'), exampleYaml);
  return dir;
}

async function start(options: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<RunningControlPlane> {
  const cp = await startControlPlane({
    files: [join(dir, 'mesh.yaml')],
    stateDir: join(dir, 'state'),
    xdsPlaintextPort: 0,
    xdsTlsPort: 0,
    debounceMs: 30,
    logging: new LogCapture().logging,
    ...options,
  });
  cleanups.push(() => cp.close());
  return cp;
}

async function caught(promise: Promise<unknown>): Promise<ControlPlaneError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!ControlPlaneError.isControlPlaneError(error))
    throw new Error(`expected a ControlPlaneError, got ${String(error)}`);
  return error;
}

async function occupy(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

describe('controlplane serve: start-up refusals', () => {
  it('a port already in use fails with a message naming the port and its role, and frees the other port', async () => {
    temp();
    const taken = await occupy();
    const tls = await caught(start({ xdsTlsPort: taken }));
    expect(tls.code).toBe('PORT_IN_USE');
    expect(tls.message).toContain(`xDS/CA TLS port ${taken} is already in use by another process`);
    expect(tls.message).toContain('--xds-tls-port');
    const plain = await caught(start({ xdsPlaintextPort: taken }));
    expect(plain.message).toContain(`xDS/CA plaintext port ${taken} is already in use by another process`);
    // nothing was left listening: a normal start on port 0 still works
    const cp = await start();
    expect(cp.ports.plaintext).toBeGreaterThan(0);
  });

  it('YAML with errors at start-up: CONFIG_INVALID listing each error as file:line, nothing written', async () => {
    temp();
    writeFileSync(join(dir, 'mesh.yaml'), exampleYaml.replace('podIP: 127.0.1.2', 'podIP: nope'));
    const error = await caught(start());
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(
      /mesh\.yaml:\d+: Pod default\/client: error: status\.podIP: "nope" is not an IP address/,
    );
    const missing = await caught(start({ files: [join(dir, 'absent.yaml')] }));
    expect(missing.message).toContain('absent.yaml:1: error: cannot read the file (ENOENT)');
  });

  it('a CA certificate without its key is refused with what to do', async () => {
    temp();
    const cp = await start();
    await cp.close();
    unlinkSync(join(dir, 'state/ca-key.pem'));
    const error = await caught(start());
    expect(error.code).toBe('STATE_INVALID');
    expect(error.message).toContain('ca-key.pem does not');
    expect(error.message).toContain('delete');
  });

  it('refuses bad options before doing anything', async () => {
    temp();
    await expect(caught(start({ xdsPlaintextPort: 70000 }))).resolves.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(caught(start({ xdsPlaintextPort: 15999, xdsTlsPort: 15999 }))).resolves.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(caught(start({ files: [] }))).resolves.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});

describe('controlplane serve: a directory of YAML', () => {
  it('reads its *.yaml files and picks up a new one', async () => {
    temp();
    const yamlDir = join(dir, 'mesh.d');
    mkdirSync(yamlDir);
    writeFileSync(join(yamlDir, 'mesh.yaml'), exampleYaml);
    writeFileSync(join(yamlDir, 'notes.txt'), 'not yaml: [');
    const cp = await start({ files: [yamlDir] });
    expect(cp.served().files).toEqual([join(yamlDir, 'mesh.yaml')]);
    const { client, recorder } = xdsClient(cp.addresses.plaintext, { token: cp.tokenFor('node-a')! });
    cleanups.push(() => client.close());
    await client.whenSynced();
    writeFileSync(
      join(yamlDir, 'extra.yml'),
      'kind: Pod\nmetadata: {name: extra, namespace: default}\nspec: {nodeName: node-c}\nstatus: {podIP: 127.0.3.1}\n',
    );
    await eventually(() => recorder.names(ADDRESS_TYPE_URL).includes('Kubernetes//Pod/default/extra'), 'the new file');
    // a new node gets its token
    await eventually(() => cp.tokenFor('node-c') !== undefined, 'the node-c token');
    expect(cp.tokens().map((t) => t.key)).toContain('node-c');
  });
});
