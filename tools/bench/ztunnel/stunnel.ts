// The native baseline: a Debian stunnel4 client/server pair with mutual TLS 1.3 (AES-GCM, the same
// suites as HBONE), one service per server app. Installing stunnel and its TLS settings are shared with
// tools/bench/hbone/stunnel.ts (which carries a single service).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createCa, createLeaf, type Fixture } from '@ambient-ts/certgen';
import type { Ports, Service } from './apps.ts';
import { ensureStunnel, stunnelTls } from '../hbone/stunnel.ts';
import { freePort, stopChild } from './procs.ts';

function writeCerts(dir: string): void {
  const root: Fixture = createCa({ commonName: 'ztunnel bench stunnel root' });
  writeFileSync(join(dir, 'root.pem'), root.certPem);
  for (const name of ['server', 'client']) {
    const leaf = createLeaf({ issuer: root, uris: [`spiffe://cluster.local/ns/bench/sa/${name}`] });
    writeFileSync(join(dir, `${name}.pem`), leaf.certPem);
    writeFileSync(join(dir, `${name}-key.pem`), leaf.keyPem);
  }
}

async function waitListening(ports: number[]): Promise<void> {
  for (const port of ports) {
    for (let attempt = 0; ; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (ok) break;
      if (attempt > 200) throw new Error(`stunnel did not start listening on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export interface StunnelPair {
  /** The client's plaintext entry port per server app (on 127.0.0.1). */
  ports: Ports;
  pids: number[];
  stop(): Promise<void>;
}

/** Start the pair in `dir`; each service forwards to `target.host:target.ports[service]`. */
export async function startStunnel(
  dir: string,
  target: { host: string; ports: Ports },
): Promise<StunnelPair | undefined> {
  const binary = ensureStunnel();
  if (!binary) return undefined;
  writeCerts(dir);
  const services = Object.keys(target.ports) as Service[];
  const serverPorts: number[] = [];
  const clientPorts = {} as Ports;
  for (const service of services) {
    serverPorts.push(await freePort('127.0.0.1'));
    clientPorts[service] = await freePort('127.0.0.1');
  }
  const global = ['foreground = yes', 'pid =', 'debug = 3'].join('\n');
  const server = services.map(
    (service, index) =>
      `[${service}]\naccept = 127.0.0.1:${serverPorts[index]}\nconnect = ${target.host}:${target.ports[service]}\nrequireCert = yes\n${stunnelTls(dir, 'server')}`,
  );
  const client = services.map(
    (service, index) =>
      `[${service}]\nclient = yes\naccept = 127.0.0.1:${clientPorts[service]}\nconnect = 127.0.0.1:${serverPorts[index]}\n${stunnelTls(dir, 'client')}`,
  );
  writeFileSync(join(dir, 'stunnel-server.conf'), `${global}\n${server.join('\n')}\n`);
  writeFileSync(join(dir, 'stunnel-client.conf'), `${global}\n${client.join('\n')}\n`);
  const processes: ChildProcess[] = ['server', 'client'].map((name) =>
    spawn(binary, [join(dir, `stunnel-${name}.conf`)], { stdio: ['ignore', 'ignore', 'ignore'] }),
  );
  await waitListening([...serverPorts, ...Object.values(clientPorts)]);
  return {
    ports: clientPorts,
    pids: processes.map((child) => child.pid!),
    stop: async () => {
      await Promise.all(processes.map((child) => stopChild(child, 2000)));
    },
  };
}
