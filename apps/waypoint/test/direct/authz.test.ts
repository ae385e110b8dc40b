// AuthorizationPolicy in the waypoint (l7-facts §2): targetRefs attachment (Service, Gateway, root
// GatewayClass; selector policies ignored), DENY before ALLOW, ALLOW by path/method/principal/header,
// 403 with `RBAC: access denied`, normalized paths, and the 403s in metrics and access logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { gatewayTarget, l7, service, serviceTarget, workload } from '../helpers/resources.ts';

let env: TestEnv;
const echo = '10.7.2.1:80';

const policy = (name: string, spec: Record<string, unknown>) => l7('AuthorizationPolicy', name, spec);

beforeAll(async () => {
  env = await TestEnv.create('127.7.2');
  await env.backend('echo-v1', '127.7.2.11', { sa: 'echo' });
  env.push(
    [
      service({ name: 'echo', vip: '10.7.2.1', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'other', vip: '10.7.2.2', ports: [{ port: 80, targetPort: 8080 }] }),
      workload({
        name: 'echo-v1',
        ip: '127.7.2.11',
        sa: 'echo',
        services: { echo: [[80, 8080]], other: [[80, 8080]] },
      }),
    ],
    [
      policy('allow-echo', {
        targetRefs: [serviceTarget('echo')],
        rules: [
          { to: [{ operation: { methods: ['GET'], paths: ['/allowed', '/public/*'] } }] },
          {
            from: [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }],
            to: [{ operation: { paths: ['/admin'] } }],
          },
          {
            to: [{ operation: { paths: ['/headers'] } }],
            when: [{ key: 'request.headers[x-test]', values: ['match'] }],
          },
        ],
      }),
      policy('deny-secret', {
        targetRefs: [gatewayTarget],
        action: 'DENY',
        rules: [{ to: [{ operation: { paths: ['/public/secret'] } }] }],
      }),
      // Waypoints take targetRefs policies only: this one is ztunnel's and must not deny /allowed here.
      policy('selector-deny', {
        selector: { matchLabels: { app: 'echo' } },
        action: 'DENY',
        rules: [{ to: [{ operation: { paths: ['/allowed'] } }] }],
      }),
      // Attached to another Service: no effect on echo.
      policy('deny-other', { targetRefs: [serviceTarget('other')], action: 'DENY', rules: [{}] }),
      {
        name: 'AuthorizationPolicy/istio-system/class-deny',
        json: {
          kind: 'AuthorizationPolicy',
          metadata: { name: 'class-deny', namespace: 'istio-system' },
          spec: {
            targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'istio-waypoint' }],
            action: 'DENY',
            rules: [{ to: [{ operation: { paths: ['/public/class-denied'] } }] }],
          },
        },
      },
    ],
  );
  await env.startWaypoint();
});
afterAll(() => env?.close());

describe('ALLOW', () => {
  it('allows what a rule matches and answers 403 `RBAC: access denied` to everything else', async () => {
    expect((await env.request({ authority: echo, path: '/allowed' })).status).toBe(200);
    expect((await env.request({ authority: echo, path: '/public/anything?q=1' })).status).toBe(200);
    const post = await env.request({ authority: echo, method: 'POST', path: '/allowed', body: 'x' });
    expect(post.status).toBe(403);
    expect(post.body).toBe('RBAC: access denied');
    expect((await env.request({ authority: echo, path: '/elsewhere' })).status).toBe(403);
  });

  it('matches the source principal from the tunnel identity', async () => {
    expect((await env.request({ authority: echo, path: '/admin' })).status).toBe(403);
    expect((await env.request({ authority: echo, path: '/admin', as: 'admin' })).status).toBe(200);
  });

  it('matches request headers in `when`', async () => {
    expect((await env.request({ authority: echo, path: '/headers', headers: { 'x-test': 'match' } })).status).toBe(200);
    expect((await env.request({ authority: echo, path: '/headers', headers: { 'x-test': 'nope' } })).status).toBe(403);
  });

  it('decides on the normalized path, which is also what the backend receives', async () => {
    const reply = await env.request({ authority: echo, path: '/public/a/../../allowed' });
    expect(reply.status).toBe(200);
    expect(reply.echo?.path).toBe('/allowed');
  });
});

describe('DENY', () => {
  it('denies before ALLOW, from the Gateway-targeted and the root GatewayClass-targeted policy', async () => {
    const denied = await env.request({ authority: echo, path: '/public/secret' });
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('RBAC: access denied');
    expect((await env.request({ authority: echo, path: '/public/x/../secret' })).status).toBe(403);
    expect((await env.request({ authority: echo, path: '/public/class-denied' })).status).toBe(403);
  });

  it('applies a Service-targeted policy only to that Service', async () => {
    expect((await env.request({ authority: '10.7.2.2:80', path: '/anything' })).status).toBe(403);
    // `other` has no ALLOW policy: everything but its DENY-all would pass; echo is unaffected by it.
    expect((await env.request({ authority: echo, path: '/allowed' })).status).toBe(200);
  });

  it('reports denials: 403 in istio_requests_total and the deciding policy in the access log', async () => {
    const text = await env.metrics();
    expect(text).toMatch(/istio_requests_total\{[^}]*reporter="waypoint"[^}]*response_code="403"[^}]*\} [1-9]/);
    const line = env.accessLogs().find((l) => l['path'] === '/public/secret');
    expect(line).toMatchObject({ response_code: 403, reason: 'explicitly denied by: default/deny-secret' });
    expect(line?.['response_code_details']).toContain('rbac_access_denied');
  });
});
