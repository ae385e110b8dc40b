// Waypoints (ztunnel-facts §11 #3/#4): pod-IP traffic to a workload with a workload waypoint, and VIP
// traffic to a service with a service waypoint, go over HBONE to the waypoint with the original authority.
import type { Server } from 'node:net';
import type { HboneServer } from '@ambient-ts/hbone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer, startFakeWaypoint, type FakeWaypoint } from '../helpers/apps.ts';
import { startZtunnel, type StartedZtunnel } from '../helpers/harness.ts';

const yaml = `
workloads:
- {uid: c//Pod/default/client, name: client, namespace: default, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["127.0.5.2"], protocol: HBONE, node: node-w}
- uid: c//Pod/default/server
  name: server
  namespace: default
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["127.0.5.1"]
  protocol: HBONE
  node: node-w
  waypoint: {destination: "/127.0.5.9", hboneMtlsPort: 15008}
- uid: c//Pod/default/server2
  name: server2
  namespace: default
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["127.0.5.3"]
  protocol: HBONE
  node: node-w
  services: {default/svc.default.svc.cluster.local: {80: 8080}}
- {uid: c//Pod/default/waypoint, name: waypoint, namespace: default, serviceAccount: waypoint, trustDomain: cluster.local, workloadIps: ["127.0.5.9"], protocol: HBONE, node: elsewhere}
services:
- name: svc
  namespace: default
  hostname: svc.default.svc.cluster.local
  vips: ["/127.10.5.1"]
  ports: {80: 8080}
  waypoint: {destination: "/127.0.5.9", hboneMtlsPort: 15008}
`;

let node: StartedZtunnel;
let waypoint: HboneServer;
const apps: Server[] = [];
let seen: FakeWaypoint['seen'] = [];

beforeAll(async () => {
  for (const ip of ['127.0.5.1', '127.0.5.3']) apps.push(await startEchoServer(ip, 8080));
  // A fake waypoint, as in ztunnel's tests: a marker line, then echo.
  ({ server: waypoint, seen } = await startFakeWaypoint('spiffe://cluster.local/ns/default/sa/waypoint', {
    host: '127.0.5.9',
    port: 15008,
  }));
  node = await startZtunnel({ NODE_NAME: 'node-w', LOCAL_XDS: yaml });
});

afterAll(async () => {
  await node?.ztunnel.drain(200);
  await waypoint?.close();
  for (const app of apps) app.close();
});

const fromClient = (host: string, port: number) =>
  socksConnect({ proxy: node.socks, target: { host, port }, localAddress: '127.0.5.2' });

describe('waypoints', () => {
  it('workload waypoint: pod-IP traffic goes to the waypoint with authority podIP:port', async () => {
    expect(await roundTrip(await fromClient('127.0.5.1', 8080), 'hi')).toBe('waypoint\nhi');
    expect(seen.at(-1)).toEqual({ authority: '127.0.5.1:8080', peer: 'spiffe://cluster.local/ns/default/sa/client' });
    const line = node
      .logs()
      .find((entry) => entry['message'] === 'connection complete' && entry['dst.hbone_addr'] === '127.0.5.1:8080');
    expect(line).toMatchObject({
      'dst.addr': '127.0.5.9:15008',
      'dst.identity': 'spiffe://cluster.local/ns/default/sa/waypoint',
      'dst.workload': 'waypoint',
    });
  });

  it('service waypoint: VIP traffic goes to the waypoint with the untranslated VIP:port', async () => {
    expect(await roundTrip(await fromClient('127.10.5.1', 80), 'svc')).toBe('waypoint\nsvc');
    expect(seen.at(-1)?.authority).toBe('127.10.5.1:80');
  });

  it('a service waypoint does not apply to pod-IP traffic', async () => {
    const before = seen.length;
    expect(await roundTrip(await fromClient('127.0.5.3', 8080), 'direct')).toBe('directdirect');
    expect(seen.length).toBe(before);
  });
});
