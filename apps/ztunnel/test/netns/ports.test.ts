// Calls from pods to ztunnel's own in-pod ports (facts §11 #12 `malicious_calls_inpod`, §2.6 illegal ports):
// a captured pod dialling 15001/15006/15008 on localhost (the in-pod listeners, loopback is never redirected)
// and on its own IP (out `lo`, not redirected either), and an uncaptured pod dialling a captured pod's
// 15001/15006 (redirected to 15006 by the in-pod PREROUTING rule, original destination an illegal port). Each is
// refused or dropped at once, no byte of it reaches an app, and ztunnel sees at most the one connection and
// the one tunnel it leads to: no loop, no connection storm (its connection records are counted before and
// after). ztunnel's operator ports (15000 admin, 15020 stats, 15021 readiness) live in ztunnel's own network
// namespace — the host's here, where the harness runs the ztunnels in-process on 127.0.0.1 — not in the pods, so
// from a pod they are simply not there; nothing of them applies to a pod's namespace and they are not tested
// here. Root and the native addon only: otherwise skipped by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { connectionCount, connectionRecords } from './mesh-observe.ts';
import { attempt, PodApps, type PodServer } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;

describe.skipIf(!support.available)(`shared mode: pods calling ztunnel's own ports${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();
  const servers: PodServer[] = [];

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 3,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1' },
        { name: 'uncaptured', pod: 'node0-pod2', captured: false },
      ],
    });
    // Apps on ordinary ports in every pod: none of them may see a byte of these calls.
    for (const name of ['client', 'server']) servers.push(await apps.server(mesh.workload(name).pod, 8080));
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  /**
   * Dial from `from` to host:port: refused or closed without data, within 2 s, and ztunnel records exactly the
   * connections given by what each one's error says (one per hop; more would be a loop).
   */
  async function expectRefused(from: string, host: string, port: number, errors: (string | RegExp)[]) {
    const before = connectionCount(mesh, 'node0');
    const started = Date.now();
    const result = await attempt(apps, mesh.workload(from).pod, { host, port }, 'GET / HTTP/1.1\r\n\r\n');
    const elapsed = Date.now() - started;
    const what = `${from} → ${host}:${port}`;
    expect(result.received, `${what} got bytes back`).toBe('');
    expect(result.error, `${what} timed out`).not.toBe('TIMEOUT');
    expect(elapsed, `${what} took ${elapsed} ms to be refused`).toBeLessThan(2000);
    // Give a loop time to show, then count what ztunnel recorded.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const records = connectionRecords(mesh, 'node0').slice(before);
    expect(records, `${what}: connection records`).toHaveLength(errors.length);
    expect(records.map((record) => String(record['error']))).toEqual(
      errors.map((error) =>
        typeof error === 'string' ? expect.stringContaining(error) : expect.stringMatching(error),
      ),
    );
    for (const server of servers) expect(server.accepted, `${what} reached an app`).toEqual([]);
  }

  it('a captured pod dialling 15001/15006/15008 on localhost is refused without a loop', async () => {
    // Loopback is never redirected: these reach the in-pod listeners themselves.
    await expectRefused('client', '127.0.0.1', 15001, ['attempted recursive call to ourselves on illegal port 15001']);
    await expectRefused('client', '127.0.0.1', 15006, ['no local workload at']);
    await expectRefused('client', '127.0.0.1', 15008, [/^TLS handshake with .* failed/]);
  });

  it('a captured pod dialling 15001/15006/15008 on its own IP is refused without a loop', async () => {
    const own = mesh.workload('client').ip;
    // Out `lo`, so not redirected. 15001 on the pod's own IP is a mesh destination like any other: HBONE to
    // itself, whose 15008 refuses the illegal target port (503) — one inbound and one outbound record, no more.
    await expectRefused('client', own, 15001, [
      'attempted recursive call to ourselves on port 15001',
      'HTTP status 503',
    ]);
    await expectRefused('client', own, 15006, ['attempted recursive call to ourselves on illegal port 15006']);
    await expectRefused('client', own, 15008, [/^TLS handshake with .* failed/]);
  });

  it("a captured pod dialling another pod's 15008 in plaintext: captured, tunnelled, refused there (503)", async () => {
    const server = mesh.workload('server').ip;
    // Redirected to the client's 15001 like any TCP; HBONE to the server's 15008 whose target port is illegal.
    await expectRefused('client', server, 15008, [
      'attempted recursive call to ourselves on port 15008',
      'HTTP status 503',
    ]);
  });

  it("an uncaptured pod dialling a captured pod's 15008 in plaintext: the TLS handshake fails", async () => {
    // 15008 is excluded from the PREROUTING redirect: it reaches the HBONE listener, which wants mutual TLS.
    await expectRefused('uncaptured', mesh.workload('server').ip, 15008, [/^TLS handshake with .* failed/]);
  });

  it("an uncaptured pod dialling a captured pod's 15001/15006 is dropped (illegal original destination)", async () => {
    const server = mesh.workload('server').ip;
    // Redirected to 15006 by the captured pod's PREROUTING rule; the original destination is the illegal port.
    for (const port of [15001, 15006])
      await expectRefused('uncaptured', server, port, [
        `attempted recursive call to ourselves on illegal port ${port}`,
      ]);
  });

  it('the pods still carry traffic afterwards', async () => {
    const server = mesh.workload('server');
    expect(await apps.exchange(mesh.workload('client').pod, { host: server.ip, port: 8080 }, 'ok')).toBe('okok');
    expect(servers[1]!.accepted).toHaveLength(1);
    servers[1]!.accepted.length = 0;
  });
});
