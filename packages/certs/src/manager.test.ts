// The certificate manager against a scripted CA and a manual clock: sharing, priorities, the
// concurrency cap, half-life rotation, backoff, expiry, forgetting, and the config-dump view.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../test/fixtures.ts';
import type { CaClient, FetchOptions, WorkloadCertificate } from './ca-client.ts';
import { ManualClock } from './clock.ts';
import { CertsError } from './errors.ts';
import { LocalCa } from './local-ca.ts';
import { CertificateManager, type CertificateManagerOptions } from './manager.ts';

const hour = 3_600_000;
const id = (name: string): string => `spiffe://cluster.local/ns/default/sa/${name}`;

interface Call {
  identity: string;
  signal: AbortSignal | undefined;
  resolve(cert: WorkloadCertificate): void;
  reject(error: Error): void;
}

/** A CA whose answers the test gives by hand. */
class ScriptedCa implements CaClient {
  readonly calls: Call[] = [];
  fetchCertificate(identity: string, options: FetchOptions = {}): Promise<WorkloadCertificate> {
    return new Promise((resolve, reject) => this.calls.push({ identity, signal: options.signal, resolve, reject }));
  }
  last(identity?: string): Call {
    const calls = identity ? this.calls.filter((call) => call.identity === identity) : this.calls;
    const call = calls[calls.length - 1];
    if (!call) throw new Error(`no CA call${identity ? ` for ${identity}` : ''}`);
    return call;
  }
}

let serial = 0;
function cert(identity: string, clock: ManualClock, lifetime = hour): WorkloadCertificate {
  serial += 1;
  return {
    identity,
    certChainPem: `chain-${serial}`,
    privateKeyPem: 'key',
    rootCertsPem: 'roots',
    notBefore: new Date(clock.now()),
    notAfter: new Date(clock.now() + lifetime),
  };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const unavailable = (): CertsError => new CertsError('CA_UNAVAILABLE', 'connection refused');

function setup(options: Partial<CertificateManagerOptions> = {}) {
  const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
  const ca = new ScriptedCa();
  const manager = new CertificateManager({ caClient: ca, clock, random: () => 0.5, refreshJitter: 0, ...options });
  return { clock, ca, manager };
}

describe('CertificateManager: fetching', () => {
  it('shares one CA call among concurrent requests for one identity', async () => {
    const { clock, ca, manager } = setup();
    const waits = [
      manager.getCertificate(id('web')),
      manager.getCertificate(id('web')),
      manager.getCertificate(id('web'), 'warmup'),
    ];
    manager.prefetch(id('web'));
    expect(ca.calls).toHaveLength(1);
    expect(manager.status(id('web'))?.state).toBe('initializing');
    const issued = cert(id('web'), clock);
    ca.last().resolve(issued);
    expect(await Promise.all(waits)).toEqual([issued, issued, issued]);
    expect(await manager.getCertificate(id('web'))).toBe(issued);
    expect(ca.calls).toHaveLength(1);
    expect(manager.status(id('web'))).toMatchObject({ state: 'available', certificate: issued });
  });

  it('keeps at most maxConcurrent CA calls in flight and serves realtime > warmup > background', async () => {
    const { clock, ca, manager } = setup({ maxConcurrent: 2 });
    // Two certificates that will need a background refresh.
    for (const name of ['r1', 'r2']) void manager.getCertificate(id(name));
    ca.calls[0]!.resolve(cert(id('r1'), clock));
    ca.calls[1]!.resolve(cert(id('r2'), clock));
    await flush();
    for (const name of ['w1', 'w2', 'w3']) manager.prefetch(id(name));
    expect(ca.calls.map((call) => call.identity)).toEqual([id('r1'), id('r2'), id('w1'), id('w2')]);
    clock.advance(hour / 2); // r1 and r2 reach half-life: queued behind w3 (background < warmup)
    void manager.getCertificate(id('now')); // a connection waits: jumps the queue
    manager.prefetch(id('w4'));
    void manager.getCertificate(id('w4')); // raised from warmup to realtime
    expect(ca.calls).toHaveLength(4);
    // Complete calls one at a time (oldest first) and record which identity the freed slot goes to.
    let next = 2;
    while (ca.calls.length < 9) {
      ca.calls[next]!.resolve(cert(ca.calls[next]!.identity, clock));
      next += 1;
      await flush();
    }
    const order = ca.calls.slice(4).map((call) => call.identity.split('/').pop());
    expect(order).toEqual(['now', 'w4', 'w3', 'r1', 'r2']);
  });

  it('rejects waiters that abort, without cancelling the shared fetch', async () => {
    const { clock, ca, manager } = setup();
    const controller = new AbortController();
    const aborted = manager.getCertificate(id('web'), { signal: controller.signal });
    const other = manager.getCertificate(id('web'));
    controller.abort();
    expect((await rejectionOf(aborted)).code).toBe('ABORTED');
    expect(ca.last().signal?.aborted).toBe(false);
    ca.last().resolve(cert(id('web'), clock));
    await expect(other).resolves.toMatchObject({ identity: id('web') });
  });
});

describe('CertificateManager: rotation and failures', () => {
  it('refreshes at half-life in the background, serving the old certificate until the new one arrives', async () => {
    const { clock, ca, manager } = setup();
    const changes: string[] = [];
    manager.on('change', (identity, certificate) =>
      changes.push(`${identity.split('/').pop()}:${certificate.certChainPem}`),
    );
    void manager.getCertificate(id('web'));
    const first = cert(id('web'), clock);
    ca.last().resolve(first);
    await flush();
    expect(manager.status(id('web'))?.nextFetchAt?.getTime()).toBe(first.notBefore.getTime() + hour / 2);
    clock.advance(hour / 2 - 1);
    expect(ca.calls).toHaveLength(1);
    clock.advance(1);
    expect(ca.calls).toHaveLength(2);
    expect(manager.status(id('web'))?.state).toBe('refreshing');
    expect(await manager.getCertificate(id('web'))).toBe(first);
    const second = cert(id('web'), clock);
    ca.last().resolve(second);
    await flush();
    expect(await manager.getCertificate(id('web'))).toBe(second);
    expect(changes).toEqual([`web:${first.certChainPem}`, `web:${second.certChainPem}`]);
    expect(manager.status(id('web'))?.nextFetchAt?.getTime()).toBe(second.notBefore.getTime() + hour / 2);
  });

  it('on refresh failure keeps serving the valid certificate, backs off 1 s, 2 s, 4 s …, and never past expiry', async () => {
    const { clock, ca, manager } = setup();
    void manager.getCertificate(id('web'));
    const current = cert(id('web'), clock, 10 * 60_000); // 10 minutes
    ca.last().resolve(current);
    await flush();
    clock.advance(5 * 60_000);
    const retryTimes: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      ca.last().reject(unavailable());
      await flush();
      const status = manager.status(id('web'))!;
      retryTimes.push(status.nextFetchAt!.getTime() - clock.now());
      expect(status).toMatchObject({ state: 'refreshing', certificate: current, error: { code: 'CA_UNAVAILABLE' } });
      expect(await manager.getCertificate(id('web'))).toBe(current);
      clock.advanceTo(status.nextFetchAt!);
    }
    // 1+2+4+8+16+32+64+128 s = 255 s after the refresh started at 300 s; the next would pass expiry (600 s).
    expect(retryTimes).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 45_000]);
    expect(clock.now()).toBe(current.notAfter.getTime());
    expect(ca.calls).toHaveLength(11);
    // The retry at expiry is in flight: a connection waits for it instead of getting an expired certificate.
    const waiting = manager.getCertificate(id('web'));
    ca.last().reject(unavailable());
    const refused = await rejectionOf(waiting);
    expect(refused).toMatchObject({ code: 'CERT_UNAVAILABLE', reason: 'CA_UNAVAILABLE' });
    expect(manager.status(id('web'))).toMatchObject({ state: 'unavailable' });
    expect(manager.status(id('web'))?.certificate).toBeUndefined();
  });

  it('caps the backoff at 150 s', async () => {
    const { clock, ca, manager } = setup();
    void manager.getCertificate(id('web')).catch(() => undefined);
    const delays: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      ca.last().reject(unavailable());
      await flush();
      const at = manager.status(id('web'))!.nextFetchAt!.getTime();
      delays.push(at - clock.now());
      clock.advanceTo(at);
    }
    expect(delays.slice(-3)).toEqual([150_000, 150_000, 150_000]);
    expect(Math.max(...delays)).toBe(150_000);
  });

  it('CA unreachable at start: Unavailable, fail fast while backing off, then recover', async () => {
    const { clock, ca, manager } = setup();
    const errors: string[] = [];
    manager.on('fetchError', (_identity, error) => errors.push(error.code));
    const first = manager.getCertificate(id('web'));
    const other = manager.getCertificate(id('db'));
    ca.last(id('web')).reject(unavailable());
    expect(await rejectionOf(first)).toMatchObject({ code: 'CERT_UNAVAILABLE', reason: 'CA_UNAVAILABLE' });
    expect(manager.snapshot().find((entry) => entry.identity === id('web'))?.state).toBe(
      'Unavailable: connection refused',
    );
    // While backing off, callers fail immediately and the CA is not called again.
    expect(await rejectionOf(manager.getCertificate(id('web')))).toMatchObject({ code: 'CERT_UNAVAILABLE' });
    expect(ca.calls.filter((call) => call.identity === id('web'))).toHaveLength(1);
    // Other identities are unaffected.
    ca.last(id('db')).resolve(cert(id('db'), clock));
    await expect(other).resolves.toMatchObject({ identity: id('db') });
    clock.advance(1_000);
    expect(ca.calls.filter((call) => call.identity === id('web'))).toHaveLength(2);
    const waiting = manager.getCertificate(id('web'));
    ca.last(id('web')).resolve(cert(id('web'), clock));
    await expect(waiting).resolves.toMatchObject({ identity: id('web') });
    expect(errors).toEqual(['CA_UNAVAILABLE']);
    expect(manager.status(id('web'))?.state).toBe('available');
  });

  it('turns non-CertsError failures into CA_CALL_FAILED', async () => {
    const { ca, manager } = setup();
    const waiting = manager.getCertificate(id('web'));
    ca.last().reject(new Error('boom'));
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'CERT_UNAVAILABLE', reason: 'CA_CALL_FAILED' });
  });
});

describe('CertificateManager: forgetting and closing', () => {
  it('forget during an in-flight fetch: the call is aborted, waiters told, and the late result dropped', async () => {
    const { clock, ca, manager } = setup();
    const changes: string[] = [];
    manager.on('change', (identity) => changes.push(identity));
    manager.prefetch(id('web'));
    const waiting = manager.getCertificate(id('web'));
    const inflight = ca.last();
    expect(manager.forget(id('web'))).toBe(true);
    expect(inflight.signal?.aborted).toBe(true);
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'CERT_FORGOTTEN' });
    inflight.resolve(cert(id('web'), clock)); // a CA that ignores the abort
    await flush();
    expect(changes).toEqual([]);
    expect(manager.status(id('web'))).toBeUndefined();
    expect(manager.snapshot()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    // Asking again starts afresh.
    const again = manager.getCertificate(id('web'));
    expect(ca.calls).toHaveLength(2);
    ca.last().resolve(cert(id('web'), clock));
    await expect(again).resolves.toMatchObject({ identity: id('web') });
    expect(manager.forget(id('nobody'))).toBe(false);
  });

  it('forget stops scheduled refreshes', async () => {
    const { clock, ca, manager } = setup();
    void manager.getCertificate(id('web'));
    ca.last().resolve(cert(id('web'), clock));
    await flush();
    expect(clock.pendingTimers).toBe(1);
    manager.forget(id('web'));
    clock.advance(10 * hour);
    expect(ca.calls).toHaveLength(1);
  });

  it('a fetch freed by forget lets the next queued identity run', async () => {
    const { clock, ca, manager } = setup({ maxConcurrent: 1 });
    manager.prefetch(id('a'));
    manager.prefetch(id('b'));
    manager.forget(id('a'));
    expect(ca.calls).toHaveLength(1);
    ca.last().reject(new CertsError('ABORTED', 'aborted'));
    await flush();
    expect(ca.last().identity).toBe(id('b'));
    ca.last().resolve(cert(id('b'), clock));
    await flush();
    expect(manager.identities()).toEqual([id('b')]);
  });

  it('close rejects waiters and later calls', async () => {
    const { clock, ca, manager } = setup();
    const waiting = manager.getCertificate(id('web'));
    manager.close();
    expect(await rejectionOf(waiting)).toMatchObject({ code: 'MANAGER_CLOSED' });
    expect(await rejectionOf(manager.getCertificate(id('web')))).toMatchObject({ code: 'MANAGER_CLOSED' });
    ca.last().resolve(cert(id('web'), clock));
    await flush();
    expect(manager.snapshot()).toEqual([]);
    manager.prefetch(id('x'));
    expect(ca.calls).toHaveLength(1);
  });

  it('refuses identities that are not workload SPIFFE IDs without managing them', async () => {
    const { ca, manager } = setup();
    expect((await rejectionOf(manager.getCertificate('web'))).code).toBe('IDENTITY_INVALID');
    expect(manager.prefetch('spiffe://cluster.local')).toBe(false);
    expect(manager.prefetch(id('web'))).toBe(true);
    expect(manager.identities()).toEqual([id('web')]);
    expect(ca.calls).toHaveLength(1);
  });

  it('refuses a bad concurrency limit', () => {
    expect(() => new CertificateManager({ caClient: new ScriptedCa(), maxConcurrent: 0 })).toThrow(/maxConcurrent/);
  });
});

describe('CertificateManager.snapshot', () => {
  it('matches ztunnel config_dump certificates entries', async () => {
    const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
    const local = await LocalCa.create({ clock, ttlSeconds: 3600 });
    const manager = new CertificateManager({ caClient: local, clock });
    const issued = await manager.getCertificate(id('web'));
    manager.prefetch(id('pending'));
    const [pending, web] = manager.snapshot();
    expect(pending).toEqual({ identity: id('pending'), state: 'Initializing', certChain: [], rootCerts: [] });
    expect(web!.identity).toBe(id('web'));
    expect(web!.state).toBe('Available');
    expect(web!.certChain).toHaveLength(1);
    expect(web!.rootCerts).toHaveLength(1);
    const leaf = new X509Certificate(issued.certChainPem);
    expect(web!.certChain[0]).toEqual({
      pem: Buffer.from(leaf.toString()).toString('base64'),
      serialNumber: BigInt(`0x${leaf.serialNumber}`).toString(),
      validFrom: '2026-06-01T00:00:00Z',
      expirationTime: '2026-06-01T01:00:00Z',
    });
    expect(Buffer.from(web!.rootCerts[0]!.pem, 'base64').toString()).toBe(local.authority.rootCertsPem);
    manager.close();
  });
});
