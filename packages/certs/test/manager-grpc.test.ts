// The certificate manager over the real gRPC + TLS path with a shared fake clock: rotation, a CA that
// is down at start or during rotation, and forgetting while a call is on the wire.
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CaServer, CertificateAuthority, NodeIdentityMap, NodeTokenIssuer } from '@ambient-ts/ca';
import { CertificateManager, IstioCaClient, ManualClock, type WorkloadCertificate } from '../src/index.ts';
import { rejectionOf } from './fixtures.ts';
import { webId, ztunnelId } from './harness.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function world(options: { startServer?: boolean; start?: number } = {}) {
  const clock = new ManualClock(options.start ?? Date.now());
  const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local', clock });
  const issuer = await NodeTokenIssuer.create({ clock });
  const serving = await authority.issueServerCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const serverOptions = {
    authority,
    tokenVerifier: issuer.verifier(),
    nodeView: new NodeIdentityMap().add('node-a', webId),
    tls: { certChainPem: serving.certChainPem, privateKeyPem: serving.privateKeyPem },
  };
  const port = await freePort();
  let server: CaServer | undefined;
  const start = async (): Promise<void> => {
    server = new CaServer(serverOptions);
    await server.listen(port);
  };
  const stop = async (): Promise<void> => {
    await server?.close(0);
    server = undefined;
  };
  cleanups.push(stop);
  if (options.startServer !== false) await start();
  const client = new IstioCaClient({
    address: `https://127.0.0.1:${port}`,
    rootCert: authority.rootCertsPem,
    token: await issuer.issue({ node: 'node-a', identity: ztunnelId, ttlSeconds: 30 * 86_400 }),
    impersonate: true,
    ttlSeconds: 3600,
    now: () => clock.now(),
  });
  cleanups.push(() => client.close());
  const manager = new CertificateManager({ caClient: client, clock, refreshJitter: 0, random: () => 0.5 });
  cleanups.push(() => manager.close());
  return { clock, manager, start, stop };
}

function nextChange(manager: CertificateManager): Promise<WorkloadCertificate> {
  return once(manager, 'change').then(([, certificate]) => certificate as WorkloadCertificate);
}

function nextError(manager: CertificateManager): Promise<string> {
  return once(manager, 'fetchError').then(([, error]) => (error as { code: string }).code);
}

describe('CertificateManager over gRPC + TLS', () => {
  it('issues, then rotates at half-life without waiting in real time', async () => {
    const { clock, manager } = await world();
    const first = await manager.getCertificate(webId);
    expect(manager.snapshot()[0]).toMatchObject({ identity: webId, state: 'Available' });
    const rotated = nextChange(manager);
    clock.advance(30 * 60_000);
    const second = await rotated;
    expect(second.certChainPem).not.toBe(first.certChainPem);
    expect(second.notBefore.getTime()).toBe(Math.floor(clock.now() / 1000) * 1000);
    expect(await manager.getCertificate(webId)).toBe(second);
    expect(manager.status(webId)?.nextFetchAt?.getTime()).toBe(second.notBefore.getTime() + 30 * 60_000);
  });

  it('CA unreachable at start: Unavailable with the error, then Available once the CA is up', async () => {
    const { clock, manager, start } = await world({ startServer: false });
    const refused = await rejectionOf(manager.getCertificate(webId));
    expect(refused).toMatchObject({ code: 'CERT_UNAVAILABLE', reason: 'CA_UNAVAILABLE' });
    expect(manager.snapshot()[0]!.state).toMatch(/^Unavailable: the CA at https:\/\/127\.0\.0\.1:\d+ is unavailable/);
    await start();
    const recovered = nextChange(manager);
    clock.advance(1_000);
    await recovered;
    expect(manager.snapshot()[0]!.state).toBe('Available');
    await expect(manager.getCertificate(webId)).resolves.toMatchObject({ identity: webId });
  });

  it('CA down during rotation: keeps serving the valid certificate, retries, then rotates', async () => {
    const { clock, manager, start, stop } = await world();
    const first = await manager.getCertificate(webId);
    await stop();
    const failed = nextError(manager);
    clock.advance(30 * 60_000);
    expect(await failed).toBe('CA_UNAVAILABLE');
    expect(await manager.getCertificate(webId)).toBe(first);
    expect(manager.snapshot()[0]!.state).toBe('Available');
    await start();
    const rotated = nextChange(manager);
    clock.advance(1_000);
    expect((await rotated).certChainPem).not.toBe(first.certChainPem);
  });

  it('forget while the call is on the wire: the result is dropped', async () => {
    const { manager } = await world();
    const changes: string[] = [];
    manager.on('change', (identity) => changes.push(identity));
    const waiting = manager.getCertificate(webId);
    manager.forget(webId);
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'CERT_FORGOTTEN' });
    // A later request for another identity completes, so the dropped one had every chance to land.
    await manager.getCertificate(ztunnelId);
    expect(changes).toEqual([ztunnelId]);
    expect(manager.identities()).toEqual([ztunnelId]);
  });

  it('on change, new handshakes get the rotated certificate while a live connection carries on', async () => {
    // Fake time starts 31 minutes back so that, after rotation, real-time TLS checks accept both certificates.
    const { clock, manager } = await world({ start: Date.now() - 31 * 60_000 });
    const first = await manager.getCertificate(webId);
    const server = createTlsServer({ cert: first.certChainPem, key: first.privateKeyPem }, (socket) =>
      socket.pipe(socket),
    );
    manager.on('change', (_identity, cert) =>
      server.setSecureContext({ cert: cert.certChainPem, key: cert.privateKeyPem }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const open = async (): Promise<TLSSocket> => {
      const socket = tlsConnect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        ca: first.rootCertsPem,
        checkServerIdentity: () => undefined, // SPIFFE identities, not host names
      });
      cleanups.push(() => socket.destroy());
      await once(socket, 'secureConnect');
      return socket;
    };
    const serial = (pem: string): string => new X509Certificate(pem).serialNumber;
    const live = await open();
    expect(live.getPeerCertificate().serialNumber).toBe(serial(first.certChainPem));
    const rotated = nextChange(manager);
    clock.advance(30 * 60_000);
    const second = await rotated;
    const fresh = await open();
    expect(fresh.getPeerCertificate().serialNumber).toBe(serial(second.certChainPem));
    live.write('still here');
    const [echo] = (await once(live, 'data')) as [Buffer];
    expect(echo.toString()).toBe('still here');
  });
});
