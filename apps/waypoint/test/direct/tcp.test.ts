// Non-HTTP traffic (l7-facts §1.10) and workload-addressed traffic (§1.5): a declared TCP port and a
// sniffed one are tunneled byte for byte to an endpoint; TCP authorization ignores HTTP-only fields in
// DENY and never matches them in ALLOW; a workload bound to the waypoint gets its own traffic back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { identityOf, l7, service, serviceTarget, workload } from '../helpers/resources.ts';

let env: TestEnv;

beforeAll(async () => {
  env = await TestEnv.create('127.7.4');
  await env.backend('db', '127.7.4.11', { tcpPorts: [5432] });
  await env.backend('raw', '127.7.4.12', { tcpPorts: [9000] });
  await env.backend('pod-w', '127.7.4.13');
  env.push(
    [
      service({ name: 'db', vip: '10.7.4.1', ports: [{ port: 5432, targetPort: 5432, appProtocol: 'TCP' }] }),
      service({ name: 'raw', vip: '10.7.4.2', ports: [{ port: 9000, targetPort: 9000 }] }),
      service({ name: 'http-only-allow', vip: '10.7.4.3', ports: [{ port: 9000, targetPort: 9000 }] }),
      workload({ name: 'db', ip: '127.7.4.11', services: { db: [[5432, 5432]] } }),
      workload({ name: 'raw', ip: '127.7.4.12', services: { raw: [[9000, 9000]], 'http-only-allow': [[9000, 9000]] } }),
      workload({ name: 'pod-w', ip: '127.7.4.13', waypoint: true }),
    ],
    [
      l7('AuthorizationPolicy', 'db-deny', {
        targetRefs: [serviceTarget('db')],
        action: 'DENY',
        // `paths` is HTTP-only: on TCP it is ignored inside DENY, so this denies `blocked` entirely.
        rules: [
          {
            from: [{ source: { principals: ['cluster.local/ns/default/sa/blocked'] } }],
            to: [{ operation: { paths: ['/x'] } }],
          },
        ],
      }),
      l7('AuthorizationPolicy', 'http-only-allow', {
        targetRefs: [serviceTarget('http-only-allow')],
        rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
      }),
      l7('HTTPRoute', 'never-for-pods', {
        parentRefs: [{ group: '', kind: 'Service', name: 'db' }],
        rules: [{ backendRefs: [{ name: 'raw', port: 9000 }] }],
      }),
    ],
  );
  await env.startWaypoint();
});
afterAll(() => env?.close());

describe('TCP', () => {
  it('tunnels a declared TCP port byte for byte, even when the bytes look like HTTP', async () => {
    expect(await env.tcp('10.7.4.1:5432', 'hello')).toEqual({ data: 'db:hello' });
    const http = 'GET / HTTP/1.1\r\nhost: db\r\n\r\n';
    expect((await env.tcp('10.7.4.1:5432', http)).data).toBe(`db:${http}`);
  });

  it('sniffs an undeclared port: non-HTTP bytes are TCP, also when the client half-closes at once', async () => {
    expect(await env.tcp('10.7.4.2:9000', 'hello raw')).toEqual({ data: 'raw:hello raw' });
    expect(await env.tcp('10.7.4.2:9000', 'PING')).toEqual({ data: 'raw:PING' });
  });

  it('resets a connection a DENY policy matches once HTTP-only fields are ignored', async () => {
    const denied = await env.tcp('10.7.4.1:5432', 'hello', 'blocked');
    expect(denied.data).toBe('');
    expect(denied.error).toBeDefined();
    expect(await env.tcp('10.7.4.1:5432', 'hello', 'client')).toEqual({ data: 'db:hello' });
  });

  it('never matches an ALLOW rule made of HTTP-only fields, so TCP is refused', async () => {
    const refused = await env.tcp('10.7.4.3:9000', 'hello');
    expect(refused.data).toBe('');
    expect(refused.error).toBeDefined();
  });

  it('reports TCP connections with reporter="waypoint" and logs them', async () => {
    const text = await env.metrics();
    expect(text).toMatch(
      /istio_tcp_connections_opened_total\{reporter="waypoint"[^}]*destination_service="db.default.svc.cluster.local"/,
    );
    expect(text).toMatch(/istio_tcp_received_bytes_total\{reporter="waypoint"[^}]*request_protocol="tcp"[^}]*\} [1-9]/);
    const lines = env.accessLogs().filter((l) => l['message'] === 'connection complete');
    expect(lines.find((l) => l['dst.hbone_addr'] === '10.7.4.2:9000' && !l['error'])).toMatchObject({
      'dst.addr': '127.7.4.12:9000',
      'src.identity': identityOf('client'),
      bytes_recv: 9,
      bytes_sent: 13,
    });
    expect(lines.find((l) => String(l['error']).includes('policy rejection'))).toBeDefined();
  });
});

describe('workload-addressed traffic', () => {
  it('goes back to the same pod over HBONE, without Service routes', async () => {
    const reply = await env.request({ authority: '127.7.4.13:8080', path: '/direct' });
    expect(reply.status).toBe(200);
    expect(reply.echo).toMatchObject({ name: 'pod-w', path: '/direct' });
    const line = env.accessLogs().find((l) => l['path'] === '/direct');
    expect(line).toMatchObject({ route_name: 'direct', upstream_host: 'envoy://connect_originate/127.7.4.13:8080' });
  });

  it('refuses pods that are not bound to this waypoint', async () => {
    await expect(env.request({ authority: '127.7.4.11:5432' })).rejects.toMatchObject({ status: 503 });
  });
});
