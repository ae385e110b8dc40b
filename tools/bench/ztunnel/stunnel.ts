// The native baseline: a Debian stunnel4 client/server pair with mutual TLS 1.3 (AES-GCM, the same
// suites as HBONE), one service per server app. Adapted from tools/bench/hbone/stunnel.ts (which
// carries a single service to 127.0.0.1); installs stunnel4 with apt-get when missing and we are root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createCa, createLeaf, type Fixture } from '@ambient-ts/certgen';
import type { Ports, Service } from './apps.ts';
import { freePort, stopChild } from './procs.ts';

function findStunnel(): string | undefined {
  for (const name of ['stunnel4', 'stunnel']) {
    if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return name;
  }
  return undefined;
}

function ensureStunnel(): string | undefined {
  const found = findStunnel();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    console.log('stunnel4 is not installed: run `sudo apt-get install -y stunnel4` for the stunnel column.');
    return undefined;
  }
  console.log('stunnel4 is not installed: running `apt-get install -y stunnel4` (as root) for the baseline');
  if (spawnSync('apt-get', ['install', '-y', 'stunnel4'], { stdio: 'inherit' }).status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', 'stunnel4'], { stdio: 'inherit' });
  }
  const installed = findStunnel();
  if (!installed) console.log('could not install stunnel4; leaving the stunnel column out');
  return installed;
}

// certgen occasionally fails to encode a fixture (a serial starting 0x00); a retry is enough.
function retry<T>(make: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return make();
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

function writeCerts(dir: string): void {
  const root: Fixture = retry(() => createCa({ commonName: 'ztunnel bench stunnel root' }));
  writeFileSync(join(dir, 'root.pem'), root.certPem);
  for (const name of ['server', 'client']) {
    const leaf = retry(() => createLeaf({ issuer: root, uris: [`spiffe://cluster.local/ns/bench/sa/${name}`] }));
    writeFileSync(join(dir, `${name}.pem`), leaf.certPem);
    writeFileSync(join(dir, `${name}-key.pem`), leaf.keyPem);
  }
}

const common = (dir: string, name: string): string =>
  [
    `cert = ${join(dir, `${name}.pem`)}`,
    `key = ${join(dir, `${name}-key.pem`)}`,
    `CAfile = ${join(dir, 'root.pem')}`,
    'verifyChain = yes',
    'sslVersionMin = TLSv1.3',
    'ciphersuites = TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256',
    'socket = l:TCP_NODELAY=1',
    'socket = r:TCP_NODELAY=1',
  ].join('\n');

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
      `[${service}]\naccept = 127.0.0.1:${serverPorts[index]}\nconnect = ${target.host}:${target.ports[service]}\nrequireCert = yes\n${common(dir, 'server')}`,
  );
  const client = services.map(
    (service, index) =>
      `[${service}]\nclient = yes\naccept = 127.0.0.1:${clientPorts[service]}\nconnect = 127.0.0.1:${serverPorts[index]}\n${common(dir, 'client')}`,
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
