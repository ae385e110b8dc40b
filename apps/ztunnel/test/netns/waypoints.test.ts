// Waypoints in shared mode (facts §11 #3/#4, §2.1 steps 3 and 7): pod-IP traffic from a captured pod to a
// workload with a workload waypoint, and VIP traffic to a service with a service waypoint, leave the client's pod
// as HBONE to the waypoint's 15008 with the original authority (`server_ip:port`, the untranslated `VIP:port`);
// the client gets the waypoint's marker and the access log names the waypoint as destination identity. The
// waypoint is a fake one, as in ztunnel's tests: an uncaptured pod answering HBONE on [::]:15008 with a
// certificate from the same test CA, writing `waypoint\n` and then echoing. Root and the native addon only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsMesh, netnsMeshSupport, type NetnsMesh } from './harness.ts';
import { awaitAccessLog, awaitMetric, metricValue } from './mesh-observe.ts';
import { PodApps, type PodServer, type WaypointServer } from './pod-apps.ts';

const support = await netnsMeshSupport();
const suffix = support.available ? '' : ` — skipped: ${support.reason}`;
const VIP = '10.10.0.1';

describe.skipIf(!support.available)(`shared mode waypoints${suffix}`, () => {
  let mesh: NetnsMesh;
  const apps = new PodApps();
  let waypoint: WaypointServer;
  let server2: PodServer;

  beforeAll(async () => {
    mesh = await createNetnsMesh({
      nodes: 2,
      podsPerNode: 3,
      workloads: [
        { name: 'client', pod: 'node0-pod0' },
        { name: 'waypoint', pod: 'node0-pod1', captured: false },
        {
          name: 'server',
          pod: 'node1-pod0',
          extra: (ipOf) => ({ waypoint: { destination: `/${ipOf('waypoint')}`, hboneMtlsPort: 15008 } }),
        },
        { name: 'server2', pod: 'node1-pod1', services: { 'default/svc.default.svc.cluster.local': { 80: 8080 } } },
      ],
      services: (ipOf) => [
        {
          name: 'svc',
          namespace: 'default',
          hostname: 'svc.default.svc.cluster.local',
          vips: [`/${VIP}`],
          ports: { 80: 8080 },
          waypoint: { destination: `/${ipOf('waypoint')}`, hboneMtlsPort: 15008 },
        },
      ],
    });
    const waypointInfo = mesh.workload('waypoint');
    waypoint = await apps.waypoint(waypointInfo.pod, waypointInfo.identity);
    await apps.server(mesh.workload('server').pod, 8080, 'double');
    server2 = await apps.server(mesh.workload('server2').pod, 8080, 'double');
  });

  afterAll(async () => {
    await apps.close();
    await mesh?.destroy();
  });

  it('workload waypoint: pod-IP traffic goes to waypoint:15008 with authority server_ip:port', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server');
    const wp = mesh.workload('waypoint');
    expect(await apps.exchange(client.pod, { host: server.ip, port: 8080 }, 'hi')).toBe('waypoint\nhi');
    expect(waypoint.seen).toEqual([{ authority: `${server.ip}:8080`, peer: client.identity }]);
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'outbound',
      'dst.hbone_addr': `${server.ip}:8080`,
    });
    expect(line).toMatchObject({
      'src.workload': 'client',
      'src.identity': client.identity,
      'dst.addr': `${wp.ip}:15008`,
      'dst.workload': 'waypoint',
      'dst.identity': wp.identity,
      bytes_sent: 2,
      bytes_recv: 11,
    });
    const labels = {
      reporter: 'source',
      source_workload: 'client',
      source_principal: client.identity,
      destination_principal: wp.identity,
      connection_security_policy: 'mutual_tls',
    };
    const text = await awaitMetric(mesh, 'node0', 'istio_tcp_connections_closed_total', labels);
    expect(metricValue(text, 'istio_tcp_connections_opened_total', labels)).toBe(1);
  });

  it('service waypoint: VIP traffic goes to the waypoint with the untranslated VIP:port', async () => {
    const client = mesh.workload('client');
    const wp = mesh.workload('waypoint');
    expect(await apps.exchange(client.pod, { host: VIP, port: 80 }, 'svc')).toBe('waypoint\nsvc');
    expect(waypoint.seen.at(-1)).toEqual({ authority: `${VIP}:80`, peer: client.identity });
    const line = await awaitAccessLog(mesh, 'node0', {
      message: 'connection complete',
      direction: 'outbound',
      'dst.hbone_addr': `${VIP}:80`,
    });
    expect(line).toMatchObject({
      'dst.addr': `${wp.ip}:15008`,
      'dst.identity': wp.identity,
      'dst.service': 'svc.default.svc.cluster.local',
    });
    // The server behind the service was not reached by ztunnel itself (the waypoint would forward).
    expect(server2.accepted).toEqual([]);
  });

  it('a service waypoint does not apply to pod-IP traffic: straight to the endpoint pod', async () => {
    const client = mesh.workload('client');
    const server = mesh.workload('server2');
    const before = waypoint.seen.length;
    expect(await apps.exchange(client.pod, { host: server.ip, port: 8080 }, 'direct')).toBe('directdirect');
    expect(waypoint.seen).toHaveLength(before);
    expect(server2.accepted).toHaveLength(1);
    expect(
      await awaitAccessLog(mesh, 'node0', { message: 'connection complete', 'dst.hbone_addr': `${server.ip}:8080` }),
    ).toMatchObject({ 'dst.addr': `${server.ip}:15008`, 'dst.identity': server.identity });
  });
});
