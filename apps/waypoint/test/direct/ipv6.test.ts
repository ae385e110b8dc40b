// IPv6 through the waypoint: a Service whose endpoint is a pod on ::1, a Service with an IPv6 VIP, and a
// pod on ::1 addressed directly (workload waypoint). Authorities and log addresses keep IPv6 brackets.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { service, workload } from '../helpers/resources.ts';

let env: TestEnv;

beforeAll(async () => {
  env = await TestEnv.create('127.7.7');
  await env.backend('echo-v6', '::1', { sa: 'echo' });
  env.push([
    service({ name: 'echo', vip: '10.7.7.1', ports: [{ port: 80, targetPort: 8080 }] }),
    service({ name: 'echo6', vip: 'fd00:7:7::1', ports: [{ port: 80, targetPort: 8080 }] }),
    workload({
      name: 'echo-v6',
      ip: '::1',
      sa: 'echo',
      waypoint: true,
      services: { echo: [[80, 8080]], echo6: [[80, 8080]] },
    }),
  ]);
  await env.startWaypoint();
});
afterAll(async () => {
  await env?.close();
});

it('reaches a pod on ::1 behind an IPv4 Service VIP: 200 with its body, CONNECT authority [::1]:8080', async () => {
  const reply = await env.request({ authority: '10.7.7.1:80', path: '/hello' });
  expect(reply.status).toBe(200);
  expect(reply.echo).toMatchObject({ name: 'echo-v6', method: 'GET', path: '/hello' });
  expect(env.backends[0]!.connects.at(-1)).toEqual({
    authority: '[::1]:8080',
    peer: 'spiffe://cluster.local/ns/default/sa/waypoint',
  });
  const line = await env.eventually(
    () => env.accessLogs().find((l) => l['path'] === '/hello'),
    (found) => found !== undefined,
  );
  expect(line).toMatchObject({
    response_code: 200,
    upstream_host: 'envoy://connect_originate/[::1]:8080',
    'dst.workload': 'echo-v6',
  });
});

it('serves a Service with an IPv6 VIP ([fd00:7:7::1]:80)', async () => {
  const reply = await env.request({ authority: '[fd00:7:7::1]:80', path: '/six' });
  expect(reply.status).toBe(200);
  expect(reply.echo).toMatchObject({ name: 'echo-v6', path: '/six' });
  const line = await env.eventually(
    () => env.accessLogs().find((l) => l['path'] === '/six'),
    (found) => found !== undefined,
  );
  expect(line).toMatchObject({
    downstream_local_address: '[fd00:7:7::1]:80',
    'dst.service': 'echo6.default.svc.cluster.local',
  });
});

it('serves workload traffic addressed to [::1]:8080 straight back to that pod', async () => {
  const reply = await env.request({ authority: '[::1]:8080', path: '/direct' });
  expect(reply.status).toBe(200);
  expect(reply.echo).toMatchObject({ name: 'echo-v6', path: '/direct' });
  const line = await env.eventually(
    () => env.accessLogs().find((l) => l['path'] === '/direct'),
    (found) => found !== undefined,
  );
  expect(line).toMatchObject({
    route_name: 'direct',
    upstream_host: 'envoy://connect_originate/[::1]:8080',
    upstream_cluster: 'encap',
  });
});
