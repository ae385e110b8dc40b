// Shared by the serve tests: a control plane on port-0 ports with a temp state dir and captured logs, and
// an xDS client that records every push.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@ambient-ts/istio-api';
import {
  DeltaXdsClient,
  ztunnelNode,
  type XdsClientOptions,
  type XdsHandler,
  type XdsTypeUpdate,
} from '@ambient-ts/xds';
import { Logging } from '@ambient-ts/telemetry';
import { startControlPlane } from '../src/serve/control-plane.ts';
import type { RunningControlPlane } from '../src/serve/types.ts';
import type { ServeOptions } from '../src/serve/options.ts';
import { L7_TYPE_URL } from '../src/translate/l7.ts';

export const exampleYaml = readFileSync(resolve(import.meta.dirname, '../../../examples/mesh.yaml'), 'utf8');
export const TYPES = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, L7_TYPE_URL] as const;

/** Poll until `check` holds (state changes arrive over sockets and file watches). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Log lines as parsed JSON records. */
export class LogCapture {
  readonly records: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      for (const line of chunk.toString().split('\n'))
        if (line.trim() !== '') this.records.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  readonly logging = new Logging({ format: 'json', level: 'debug', destination: this.stream });

  messages(level?: string): string[] {
    return this.records.filter((r) => level === undefined || r['level'] === level).map((r) => String(r['message']));
  }
}

export interface TempMesh {
  readonly dir: string;
  readonly file: string;
  readonly stateDir: string;
  readonly logs: LogCapture;
  cp: RunningControlPlane;
  /** Save like an editor does: write a temporary file, rename it over the original. */
  save(text: string): void;
  start(extra?: Partial<ServeOptions>): Promise<RunningControlPlane>;
  cleanup(): Promise<void>;
}

export async function tempMesh(yaml = exampleYaml, extra: Partial<ServeOptions> = {}): Promise<TempMesh> {
  const dir = mkdtempSync(join(tmpdir(), 'controlplane-serve-'));
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, yaml);
  const logs = new LogCapture();
  const stateDir = join(dir, 'state');
  const mesh: TempMesh = {
    dir,
    file,
    stateDir,
    logs,
    cp: undefined as unknown as RunningControlPlane,
    save(text) {
      const tmp = join(dir, '.mesh.yaml.swp');
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    },
    async start(more = {}) {
      mesh.cp = await startControlPlane({
        files: [file],
        stateDir,
        xdsPlaintextPort: 0,
        xdsTlsPort: 0,
        debounceMs: 30,
        logging: logs.logging,
        ...extra,
        ...more,
      });
      return mesh.cp;
    },
    async cleanup() {
      await mesh.cp?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await mesh.start();
  return mesh;
}

/** Keeps the current resources per type and every update as it arrived. */
export class Recorder implements XdsHandler {
  readonly updates: XdsTypeUpdate[] = [];
  readonly current = new Map<string, Map<string, string>>(TYPES.map((t) => [t, new Map()]));

  handle(update: XdsTypeUpdate): { rejected: [] } {
    this.updates.push(update);
    const names = this.current.get(update.typeUrl)!;
    for (const name of update.removed) names.delete(name);
    for (const resource of update.resources) names.set(resource.name, resource.version);
    return { rejected: [] };
  }

  names(typeUrl: string): string[] {
    return [...this.current.get(typeUrl)!.keys()].sort();
  }
}

export function xdsClient(
  address: string,
  options: Partial<XdsClientOptions> = {},
): { client: DeltaXdsClient; recorder: Recorder; terminations: string[] } {
  const recorder = new Recorder();
  const terminations: string[] = [];
  const client = new DeltaXdsClient({
    address,
    node: ztunnelNode({ podName: 'ztunnel-a', podNamespace: 'istio-system', nodeName: 'node-a' }),
    handlers: Object.fromEntries(TYPES.map((t) => [t, recorder])),
    backoff: { initialMs: 20, maxMs: 200 },
    hooks: { onConnectionTermination: (_reason, detail) => terminations.push(detail) },
    ...options,
  });
  client.start();
  return { client, recorder, terminations };
}
