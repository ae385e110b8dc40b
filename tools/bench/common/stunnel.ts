// The baseline a user would reach for: a Debian stunnel4 client/server pair with the same mutual TLS 1.3
// (AES-GCM suites as HBONE), one stunnel service per target. Installed with apt-get when missing and we
// are root; otherwise the bench says how and leaves the stunnel rows out.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopChild, waitListening } from './processes.ts';

function findStunnel(): string | undefined {
  for (const name of ['stunnel4', 'stunnel']) {
    if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return name;
  }
  return undefined;
}

/** The stunnel binary, installed with apt-get when missing and we are root; undefined (said why) otherwise. */
export function ensureStunnel(): string | undefined {
  const found = findStunnel();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    console.log('stunnel4 is not installed: run `sudo apt-get install -y stunnel4` for the stunnel rows.');
    return undefined;
  }
  console.log('stunnel4 is not installed: running `apt-get install -y stunnel4` (as root) for the baseline rows');
  if (spawnSync('apt-get', ['install', '-y', 'stunnel4'], { stdio: 'inherit' }).status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', 'stunnel4'], { stdio: 'inherit' });
  }
  const installed = findStunnel();
  if (!installed) console.log('could not install stunnel4; leaving the stunnel rows out');
  return installed;
}

/** The TLS part of a stunnel service: mutual TLS 1.3 with HBONE's AES-GCM suites, TCP_NODELAY both ways. */
export const stunnelTls = (certDir: string, name: string): string =>
  [
    `cert = ${join(certDir, `${name}.pem`)}`,
    `key = ${join(certDir, `${name}-key.pem`)}`,
    `CAfile = ${join(certDir, 'root.pem')}`,
    'verifyChain = yes',
    'sslVersionMin = TLSv1.3',
    'ciphersuites = TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256',
    'socket = l:TCP_NODELAY=1',
    'socket = r:TCP_NODELAY=1',
  ].join('\n');

export interface StunnelPair {
  /** The client's plaintext entry port per service name (on 127.0.0.1). */
  readonly ports: Record<string, number>;
  readonly pids: number[];
  stop(): Promise<void>;
}

/** Where each side of the pair runs: by default both in this network namespace on 127.0.0.1. */
export interface StunnelPlacement {
  /** The server side's network namespace (`ip netns exec`; root); default this process's. */
  readonly serverNamespace?: string;
  /** The address the server side accepts on (the client side connects to it); default 127.0.0.1. */
  readonly serverHost?: string;
  /** The client side's network namespace; its entry ports are on 127.0.0.1 there. */
  readonly clientNamespace?: string;
  /** Config file names are `stunnel-<prefix>server.conf` / `…client.conf`; default none. */
  readonly prefix?: string;
}

/**
 * Start the pair with certificates from `certDir` (root.pem, server.pem/-key.pem, client.pem/-key.pem);
 * service `name` forwards to `targets[name]`.
 */
export async function startStunnel(
  certDir: string,
  targets: Record<string, { host: string; port: number }>,
  placement: StunnelPlacement = {},
): Promise<StunnelPair | undefined> {
  const binary = ensureStunnel();
  if (!binary) return undefined;
  const names = Object.keys(targets);
  const serverHost = placement.serverHost ?? '127.0.0.1';
  const prefix = placement.prefix ?? '';
  const serverPorts: Record<string, number> = {};
  const clientPorts: Record<string, number> = {};
  for (const name of names) {
    // Free here; in a fresh namespace every port is free but 15001/15006/15008, below the ephemeral range.
    serverPorts[name] = await freePort('127.0.0.1');
    clientPorts[name] = await freePort('127.0.0.1');
  }
  const global = ['foreground = yes', 'pid =', 'debug = 3'].join('\n');
  const server = names.map(
    (name) =>
      `[${name}]\naccept = ${serverHost}:${serverPorts[name]}\nconnect = ${targets[name]!.host}:${targets[name]!.port}\nrequireCert = yes\n${stunnelTls(certDir, 'server')}`,
  );
  const client = names.map(
    (name) =>
      `[${name}]\nclient = yes\naccept = 127.0.0.1:${clientPorts[name]}\nconnect = ${serverHost}:${serverPorts[name]}\n${stunnelTls(certDir, 'client')}`,
  );
  const config = (side: string): string => join(certDir, `stunnel-${prefix}${side}.conf`);
  writeFileSync(config('server'), `${global}\n${server.join('\n')}\n`);
  writeFileSync(config('client'), `${global}\n${client.join('\n')}\n`);
  const namespaces = { server: placement.serverNamespace, client: placement.clientNamespace };
  const processes: ChildProcess[] = (['server', 'client'] as const).map((side) => {
    const namespace = namespaces[side];
    // `ip netns exec` execs stunnel, so the pid is stunnel's own (for its CPU and memory).
    const [file, ...args] = namespace
      ? ['ip', 'netns', 'exec', namespace, binary, config(side)]
      : [binary, config(side)];
    return spawn(file!, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  });
  try {
    await waitListening(Object.values(serverPorts), serverHost, namespaces.server);
    await waitListening(Object.values(clientPorts), '127.0.0.1', namespaces.client);
  } catch (error) {
    await Promise.all(processes.map((child) => stopChild(child, 2000)));
    throw error;
  }
  return {
    ports: clientPorts,
    pids: processes.map((child) => child.pid!),
    stop: async () => {
      await Promise.all(processes.map((child) => stopChild(child, 2000)));
    },
  };
}
