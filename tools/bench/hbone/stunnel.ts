// The baseline a user would reach for: a Debian stunnel4 client/server pair with the same mutual TLS 1.3
// (AES-GCM) as HBONE, carrying the same bytes. Installed with apt-get when missing and we are root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`stunnel did not start listening on ${port}`);
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

/** Start server and client stunnel; `port` is the client's plaintext entry. */
export async function startStunnel(
  certDir: string,
  sinkPort: number,
): Promise<{ port: number; pids: number[]; stop(): void } | undefined> {
  const binary = ensureStunnel();
  if (!binary) return undefined;
  const serverPort = await freePort();
  const clientPort = await freePort();
  const global = ['foreground = yes', 'pid =', 'debug = 3'].join('\n');
  writeFileSync(
    join(certDir, 'stunnel-server.conf'),
    `${global}\n[server]\naccept = 127.0.0.1:${serverPort}\nconnect = 127.0.0.1:${sinkPort}\nrequireCert = yes\n${stunnelTls(certDir, 'server')}\n`,
  );
  writeFileSync(
    join(certDir, 'stunnel-client.conf'),
    `${global}\n[client]\nclient = yes\naccept = 127.0.0.1:${clientPort}\nconnect = 127.0.0.1:${serverPort}\n${stunnelTls(certDir, 'client')}\n`,
  );
  const processes: ChildProcess[] = ['server', 'client'].map((name) =>
    spawn(binary, [join(certDir, `stunnel-${name}.conf`)], { stdio: ['ignore', 'ignore', 'ignore'] }),
  );
  await waitListening(serverPort);
  await waitListening(clientPort);
  return {
    port: clientPort,
    pids: processes.map((child) => child.pid!),
    stop: () => {
      for (const child of processes) if (child.exitCode === null) child.kill();
    },
  };
}
