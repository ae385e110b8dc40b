// Shared mode's self inbound (facts §1.12, §11 #15 `test_hbone_metrics_access`): with POD_NAME, POD_NAMESPACE and
// SERVICE_ACCOUNT set, ztunnel serves HBONE in its own network namespace with its own identity, so a meshed
// client reaches ztunnel's metrics port through a tunnel. Here ztunnel runs in-process on a loopback address
// (SELF_INBOUND_ADDR and STATS_ADDR, our additions) and is registered as the workload `ztunnel-node0` there.
// Shared mode needs root and the native addon: otherwise skipped by name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hboneConnect, startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';
import { netnsMeshSupport } from './harness.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;
const ip = '127.0.77.1';
const ztunnelId = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
const clientId = 'spiffe://cluster.local/ns/default/sa/client';

describe.skipIf(!support.available)(`shared mode: ztunnel's own HBONE inbound${suffix}`, () => {
  let started: StartedZtunnel;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ztunnel-self-'));
    const localConfig = {
      workloads: [
        {
          uid: 'cluster1//v1/Pod/istio-system/ztunnel-node0',
          name: 'ztunnel-node0',
          namespace: 'istio-system',
          serviceAccount: 'ztunnel',
          trustDomain: 'cluster.local',
          workloadIps: [ip],
          protocol: 'HBONE',
          node: 'node0',
        },
      ],
    };
    started = await startZtunnel({
      PROXY_MODE: 'shared',
      UNSTABLE_ENABLE_SOCKS5: 'false',
      NODE_NAME: 'node0',
      LOCAL_XDS: JSON.stringify(localConfig),
      // No node agent listens there: the ZDS client just keeps retrying.
      INPOD_UDS: join(dir, 'none.sock'),
      POD_NAME: 'ztunnel-node0',
      POD_NAMESPACE: 'istio-system',
      SERVICE_ACCOUNT: 'ztunnel',
      SELF_INBOUND_ADDR: `${ip}:0`,
      STATS_ADDR: `${ip}:0`,
    });
  });

  afterAll(async () => {
    await started?.ztunnel.drain(200);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a meshed client scrapes ztunnel's /metrics through HBONE, ztunnel presenting its own identity", async () => {
    const { selfInbound, stats } = started.ztunnel.ports;
    expect(selfInbound).toBeGreaterThan(0);
    const tunnel = await hboneConnect({
      identity: clientId,
      to: { host: ip, port: selfInbound! },
      authority: `${ip}:${stats}`,
      expect: [ztunnelId],
    });
    try {
      expect(tunnel.status).toBe(200);
      let body = '';
      tunnel.stream!.on('data', (chunk: Buffer) => (body += chunk.toString()));
      tunnel.stream!.end(`GET /metrics HTTP/1.1\r\nHost: ${ip}\r\nConnection: close\r\n\r\n`);
      await new Promise((resolve) => tunnel.stream!.once('end', resolve));
      expect(body).toMatch(/^HTTP\/1\.1 200/);
      expect(body).toContain('istio_build');
    } finally {
      await tunnel.pool.close();
    }
    const inbound = started
      .logs()
      .find((line) => line['scope'] === 'access' && line['message'] === 'connection complete');
    expect(inbound).toMatchObject({
      direction: 'inbound',
      'src.identity': clientId,
      'dst.identity': ztunnelId,
      'dst.workload': 'ztunnel-node0',
    });
  });
});
