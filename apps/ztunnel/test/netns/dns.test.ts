// Shared mode's per-pod DNS proxy (facts §9.1, §9.3, §10): each captured pod gets ztunnel's DNS server on
// localhost:15053 inside its namespace, and the in-pod rules redirect its port-53 traffic there. An unmodified
// `dig` in the pod, pointed at any non-loopback resolver, resolves a Service by short name to its VIP (UDP and
// TCP), then the pod connects to the VIP through HBONE; a name outside the mesh is forwarded to an upstream
// nameserver in another pod, asked from the client pod's own address with ztunnel's mark (so the redirect lets it
// pass instead of capturing it again); istio_dns_* metrics count it; /config_dump shows the pod's DNS listener;
// an uncaptured pod's query is not answered by ztunnel; a taken 15053 NACKs the pod until the retry can bind; a Del
// stops the server; ISTIO_META_DNS_CAPTURE=false starts none. Root, the native addon and dig: else skipped by name.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIncoming, encodeResponse, serveDns, type DnsTransport } from '@ambient-ts/dns';
import { exec, type PodInfo } from '@ambient-ts/netns-topology';
import { eventually, metricValue } from '../helpers/observe.ts';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { awaitMetric } from './mesh-observe.ts';
import { PodApps } from './pod-apps.ts';

const support = await netnsMeshSupport();
const digAvailable = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !support.available ? support.reason : !digAvailable ? "needs dig (Debian's bind9-dnsutils)" : '';
const suffix = skip ? ` — skipped: ${skip}` : '';

const VIP = '10.10.0.7';
/** Any non-loopback resolver address: the pod's rules redirect port 53 to 15053 whatever the destination. */
const RESOLVER = '10.96.0.10';
const EXTERNAL = 'external.example.org';
const EXTERNAL_IP = '192.0.2.77';

/** `dig` inside a pod; the answer section and the header's status and flags. */
async function digIn(pod: PodInfo, server: string, name: string, extra: string[] = []) {
  const result = await exec(pod.namespace, ['dig', `@${server}`, name, 'A', '+time=2', '+tries=1', ...extra], {
    timeoutMs: 15_000,
  }).catch((error: { stdout?: string }) => ({ stdout: String(error.stdout ?? '') }));
  const raw = result.stdout;
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? 'NO ANSWER';
  const flags = (/;; flags: ([a-z ]*);/.exec(raw)?.[1] ?? '').split(' ').filter(Boolean);
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(raw)?.[1] ?? '';
  const answers = section
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 5)
    .map((parts) => `${parts[3]} ${parts.slice(4).join(' ').replace(/\.$/, '')}`);
  return { status, flags, answers, raw };
}

describe.skipIf(skip !== '')(`shared mode: DNS proxy on 15053 inside each pod${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-netns-dns-'));
  let upstream: DnsTransport | undefined;
  /** Source addresses of the queries the upstream nameserver received. */
  const upstreamSeen: string[] = [];

  /** An authoritative nameserver for example.org on the upstream pod's IP, port 53 (sockets made in that pod). */
  async function startUpstream(pod: PodInfo): Promise<void> {
    const netns = await import('@ambient-ts/netns');
    const fd = openSync(`/var/run/netns/${pod.namespace}`, 'r');
    try {
      const udp = await netns.bindUdpInNamespace({ netns: fd, host: pod.ip, port: 53 });
      const tcp = await netns.listenInNamespace({ netns: fd, host: pod.ip, port: 53 });
      upstream = serveDns({
        udp,
        tcp,
        handle: async (message, context) => {
          upstreamSeen.push(context.remote.address);
          const incoming = decodeIncoming(message, context.protocol);
          if (incoming.kind !== 'query') return incoming.kind === 'reject' ? incoming.response : undefined;
          const { query } = incoming;
          const known = query.question.name.toLowerCase() === EXTERNAL && query.question.type === 'A';
          return encodeResponse(
            query,
            known ? [{ type: 'A', name: query.question.name, address: EXTERNAL_IP, ttl: 60 }] : [],
            { authoritative: true, limit: 512, ...(known ? {} : { rcode: 'NXDOMAIN' as const }) },
          );
        },
      });
    } finally {
      closeSync(fd);
    }
  }

  beforeAll(async () => {
    const resolvConf = join(dir, 'resolv.conf');
    mesh = await createNetnsMesh({
      nodes: 1,
      podsPerNode: 5,
      dns: true,
      // the helper's default for node-mode tests is 127.0.0.1:0; a pod gets Istio's default address
      env: { DNS_RESOLV_CONF: resolvConf, DNS_UPSTREAM_TIMEOUT: '2s', ISTIO_META_DNS_PROXY_ADDR: 'localhost:15053' },
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'server', pod: 'node0-pod1', services: { 'default/echo.default.svc.cluster.local': { 80: 8080 } } },
        { name: 'outsider', pod: 'node0-pod2', captured: false },
        { name: 'nameserver', pod: 'node0-pod3', captured: false },
        { name: 'squatted', pod: 'node0-pod4', added: false },
      ],
      services: [
        {
          name: 'echo',
          namespace: 'default',
          hostname: 'echo.default.svc.cluster.local',
          vips: [`/${VIP}`],
          ports: { 80: 8080 },
        },
      ],
      beforeZtunnels: async (topology, ipOf) => {
        writeFileSync(resolvConf, `nameserver ${ipOf('nameserver')}\nsearch default.svc.cluster.local\n`);
        await startUpstream(topology.pod('node0-pod3'));
      },
    });
    await apps.server(mesh.workload('server').pod, 8080, 'double');
  });

  afterAll(async () => {
    await apps.close();
    await upstream?.close();
    await mesh?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/config_dump shows the DNS listener of each captured pod (127.0.0.1 and ::1, port 15053, UDP + TCP)', async () => {
    const dump = (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
      inpod: { pods: { name: string; dns: { address: string; port: number; protocols: string[] }[] }[] };
    };
    const client = dump.inpod.pods.find((pod) => pod.name === 'client');
    expect(client?.dns).toContainEqual({ address: '127.0.0.1', port: 15053, protocols: ['udp', 'tcp'] });
    expect(client?.dns.every((d) => d.port === 15053 && ['127.0.0.1', '::1'].includes(d.address))).toBe(true);
  });

  it("a captured pod's dig to port 53 is redirected to its 15053 and resolves the Service by short name to the VIP, then reaches it through HBONE", async () => {
    const client = mesh.workload('client').pod;
    const short = await digIn(client, RESOLVER, 'echo');
    expect(short).toMatchObject({ status: 'NOERROR', answers: [`A ${VIP}`] });
    expect(short.flags).toContain('aa');
    const full = await digIn(client, RESOLVER, 'echo.default.svc.cluster.local', ['+tcp']);
    expect(full).toMatchObject({ status: 'NOERROR', answers: [`A ${VIP}`] });
    // the app then connects to what it resolved: captured on 15001, carried through HBONE to the endpoint
    expect(await apps.exchange(client, { host: VIP, port: 80 }, 'dns-hello')).toBe('dns-hellodns-hello');
    const metrics = await awaitMetric(mesh, 'node0', 'istio_dns_requests_total', {
      request_query_type: 'a',
      source_canonical_service: 'client',
    });
    expect(
      metricValue(metrics, 'istio_dns_requests_total', { request_protocol: 'udp', source_canonical_service: 'client' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(metrics, 'istio_dns_requests_total', { request_protocol: 'tcp', source_canonical_service: 'client' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("a name outside the mesh is forwarded from the pod's own address, marked so it is not captured again", async () => {
    const client = mesh.workload('client');
    upstreamSeen.length = 0;
    const answer = await digIn(client.pod, RESOLVER, EXTERNAL);
    expect(answer).toMatchObject({ status: 'NOERROR', answers: [`A ${EXTERNAL_IP}`] });
    expect(answer.flags).not.toContain('aa'); // forwarded: AA cleared
    // ztunnel asked from inside the client pod (its IP), and its query passed the pod's port-53 redirect
    expect(upstreamSeen).toContain(client.ip);
    const nx = await digIn(client.pod, RESOLVER, 'nothing.example.org');
    expect(nx.status).toBe('NXDOMAIN');
    const metrics = await awaitMetric(
      mesh,
      'node0',
      'istio_dns_upstream_requests_total',
      {
        request_query_type: 'a',
      },
      2,
    );
    expect(metricValue(metrics, 'istio_dns_upstream_failures_total', {})).toBe(0);
  });

  it("an uncaptured pod's query is not answered by ztunnel", async () => {
    const outsider = mesh.workload('outsider').pod;
    const redirected = await digIn(outsider, RESOLVER, 'echo', ['+time=1']);
    expect(redirected.status).toBe('NO ANSWER');
    const direct = await digIn(outsider, '127.0.0.1', 'echo', ['-p', '15053', '+time=1']);
    expect(direct.answers).toEqual([]);
    expect(direct.status).not.toBe('NOERROR');
  });

  it('a pod whose 15053 is taken is NACKed naming the DNS listener, and started by the retry once it is free', async () => {
    const squatted = mesh.workload('squatted');
    const netns = await import('@ambient-ts/netns');
    const fd = openSync(`/var/run/netns/${squatted.pod.namespace}`, 'r');
    const squatter = await netns.bindUdpInNamespace({ netns: fd, host: '127.0.0.1', port: 15053 });
    closeSync(fd);
    let squatting = true;
    try {
      const response = await mesh.addPod('squatted');
      expect(response.ack?.error).toContain(
        `pod ${squatted.uid} (default/squatted): starting its proxy failed: DNS on udp 127.0.0.1:15053`,
      );
      expect(response.ack?.error).toContain('EADDRINUSE');
      squatter.close();
      squatting = false;
      const dump = await eventually(
        async () =>
          (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
            inpod: { pods: { name: string; state: string; dns: { address: string; port: number }[] }[] };
          },
        (value) => value.inpod.pods.some((pod) => pod.name === 'squatted' && pod.state === 'running'),
        8000,
      );
      expect(dump.inpod.pods.find((pod) => pod.name === 'squatted')?.dns).toContainEqual(
        expect.objectContaining({ address: '127.0.0.1', port: 15053 }),
      );
      expect((await digIn(squatted.pod, RESOLVER, 'echo')).answers).toEqual([`A ${VIP}`]);
    } finally {
      if (squatting) squatter.close();
    }
  });

  it("a Del stops the pod's DNS server with its other listeners", async () => {
    const ack = await mesh.delPod('client');
    expect(ack.ack?.error ?? '').toBe('');
    const gone = await digIn(mesh.workload('client').pod, RESOLVER, 'echo', ['+time=1']);
    expect(gone.answers).toEqual([]);
    // and it comes back with the pod
    const again = await mesh.addPod('client');
    expect(again.ack?.error ?? '').toBe('');
    expect((await digIn(mesh.workload('client').pod, RESOLVER, 'echo')).answers).toEqual([`A ${VIP}`]);
  });
});

describe.skipIf(skip !== '')(
  `shared mode: ISTIO_META_DNS_CAPTURE=false starts no DNS server in the pods${suffix}`,
  () => {
    let mesh: NetnsMesh;

    beforeAll(async () => {
      mesh = await createNetnsMesh({
        nodes: 1,
        podsPerNode: 1,
        dns: true,
        env: { ISTIO_META_DNS_CAPTURE: 'false', ISTIO_META_DNS_PROXY_ADDR: 'localhost:15053' },
        workloads: [{ name: 'client', pod: 'node0-pod0' }],
        services: [
          {
            name: 'echo',
            namespace: 'default',
            hostname: 'echo.default.svc.cluster.local',
            vips: [`/${VIP}`],
            ports: { 80: 8080 },
          },
        ],
      });
    });

    afterAll(async () => {
      await mesh?.destroy();
    });

    it('the pod runs with no DNS listener and its redirected query gets no answer', async () => {
      const dump = (await (await mesh.ztunnel('node0').started.admin('/config_dump')).json()) as {
        inpod: { pods: { name: string; state: string; dns: unknown[] }[] };
      };
      expect(dump.inpod.pods.find((pod) => pod.name === 'client')).toMatchObject({ state: 'running', dns: [] });
      const answer = await digIn(mesh.workload('client').pod, RESOLVER, 'echo', ['+time=1']);
      expect(answer.answers).toEqual([]);
      expect(answer.status).not.toBe('NOERROR');
    });
  },
);
