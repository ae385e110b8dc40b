// The native baseline: the shared stunnel pair (tools/bench/common/stunnel.ts) with one service per
// server app, and its certificates.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createLeaf, type Fixture } from '@ambient-ts/pki/testing';
import type { Ports, Service } from './apps.ts';
import { startStunnel as startPair, type StunnelPlacement } from '../common/stunnel.ts';

function writeCerts(dir: string): void {
  if (existsSync(join(dir, 'root.pem'))) return; // a second pair (the netns one) uses the same certificates
  const root: Fixture = createCa({ commonName: 'ztunnel bench stunnel root' });
  writeFileSync(join(dir, 'root.pem'), root.certPem);
  for (const name of ['server', 'client']) {
    const leaf = createLeaf({ issuer: root, uris: [`spiffe://cluster.local/ns/bench/sa/${name}`] });
    writeFileSync(join(dir, `${name}.pem`), leaf.certPem);
    writeFileSync(join(dir, `${name}-key.pem`), leaf.keyPem);
  }
}

export interface StunnelPair {
  /** The client's plaintext entry port per server app (on 127.0.0.1). */
  ports: Ports;
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Start the pair in `dir`; each service forwards to `target.host:target.ports[service]`. `placement` puts the
 * sides in network namespaces (the netns pair: client pod → server pod).
 */
export async function startStunnel(
  dir: string,
  target: { host: string; ports: Ports },
  placement: StunnelPlacement = {},
): Promise<StunnelPair | undefined> {
  writeCerts(dir);
  const services = Object.keys(target.ports) as Service[];
  const pair = await startPair(
    dir,
    Object.fromEntries(services.map((service) => [service, { host: target.host, port: target.ports[service] }])),
    placement,
  );
  return pair && { ports: pair.ports as Ports, pids: pair.pids, stop: pair.stop };
}
