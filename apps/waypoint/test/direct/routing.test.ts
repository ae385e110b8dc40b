// HTTPRoute (GAMMA) through a real waypoint: default forwarding, path/header/weight routing to v1/v2,
// 404 when routes exist but none matches, header modifiers, redirect, rewrite, port-scoped parents,
// and what metrics and access logs say about it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEnv, type Backend } from '../helpers/env.ts';
import { identityOf, l7, service, serviceParent, workload } from '../helpers/resources.ts';

let env: TestEnv;
let v1: Backend;
let v2: Backend;
const echo = '10.7.1.1:80';

beforeAll(async () => {
  env = await TestEnv.create('127.7.1');
  v1 = await env.backend('echo-v1', '127.7.1.11', { sa: 'echo' });
  v2 = await env.backend('echo-v2', '127.7.1.12', { sa: 'echo' });
  env.push([
    service({
      name: 'echo',
      vip: '10.7.1.1',
      ports: [
        { port: 80, targetPort: 8080 },
        { port: 81, targetPort: 8080 },
      ],
    }),
    service({ name: 'echo-v1', vip: '10.7.1.2', ports: [{ port: 80, targetPort: 8080 }], waypoint: false }),
    service({ name: 'echo-v2', vip: '10.7.1.3', ports: [{ port: 80, targetPort: 8080 }], waypoint: false }),
    service({ name: 'other', vip: '10.7.1.4', ports: [{ port: 80, targetPort: 8080 }], waypoint: false }),
    workload({
      name: 'echo-v1',
      ip: '127.7.1.11',
      sa: 'echo',
      version: 'v1',
      services: {
        echo: [
          [80, 8080],
          [81, 8080],
        ],
        'echo-v1': [[80, 8080]],
      },
    }),
    workload({
      name: 'echo-v2',
      ip: '127.7.1.12',
      sa: 'echo',
      version: 'v2',
      services: {
        echo: [
          [80, 8080],
          [81, 8080],
        ],
        'echo-v2': [[80, 8080]],
      },
    }),
    workload({ name: 'client', ip: '127.7.1.200' }),
  ]);
  await env.startWaypoint();
});
afterAll(() => env?.close());

const route = (name: string, spec: Record<string, unknown>) =>
  l7('HTTPRoute', name, { parentRefs: [serviceParent('echo')], ...spec });
const to = (name: string, weight?: number) => ({ name, port: 80, ...(weight !== undefined ? { weight } : {}) });

describe('without routes', () => {
  it('forwards to the Service itself over a new HBONE tunnel from the waypoint identity, adding x-request-id', async () => {
    const reply = await env.request({ authority: echo, path: '/hello?x=1', headers: { 'x-custom': 'kept' } });
    expect(reply.status).toBe(200);
    expect(['echo-v1', 'echo-v2']).toContain(reply.echo?.name);
    expect(reply.echo?.path).toBe('/hello?x=1');
    expect(reply.echo?.headers['x-custom']).toBe('kept');
    expect(reply.echo?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const backend = reply.echo?.name === 'echo-v1' ? v1 : v2;
    expect(backend.connects.at(-1)).toEqual({ authority: `${backend.ip}:8080`, peer: identityOf('waypoint') });
  });

  it('keeps a client x-request-id', async () => {
    const reply = await env.request({ authority: echo, headers: { 'x-request-id': 'abc-123' } });
    expect(reply.echo?.headers['x-request-id']).toBe('abc-123');
  });

  it('refuses a CONNECT to a destination it does not serve with 503', async () => {
    await expect(env.request({ authority: '10.7.1.4:80' })).rejects.toMatchObject({
      code: 'TUNNEL_REFUSED',
      status: 503,
    });
    await expect(env.request({ authority: '10.7.1.9:80' })).rejects.toMatchObject({
      code: 'TUNNEL_REFUSED',
      status: 503,
    });
    await expect(env.request({ authority: '10.7.1.1:99' })).rejects.toMatchObject({
      code: 'TUNNEL_REFUSED',
      status: 503,
    });
    expect(
      env
        .logs()
        .some(
          (line) =>
            line['message'] === 'tunnel refused' && String(line['error']).includes('not bound to this waypoint'),
        ),
    ).toBe(true);
  });
});

describe('with routes', () => {
  beforeAll(async () => {
    await env.pushAndWait(
      [],
      [
        route('by-path', {
          rules: [
            { matches: [{ path: { type: 'Exact', value: '/v1' } }], backendRefs: [to('echo-v1')] },
            {
              matches: [
                { path: { type: 'PathPrefix', value: '/v2' } },
                { headers: [{ name: 'version', value: 'two' }] },
              ],
              backendRefs: [to('echo-v2')],
            },
            {
              name: 'split',
              matches: [{ path: { type: 'PathPrefix', value: '/split' } }],
              backendRefs: [to('echo-v1', 0), to('echo-v2', 3)],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/mod' } }],
              filters: [
                {
                  type: 'RequestHeaderModifier',
                  requestHeaderModifier: {
                    set: [{ name: 'x-set', value: 'new' }],
                    add: [{ name: 'x-add', value: 'two' }],
                    remove: ['x-gone'],
                  },
                },
                {
                  type: 'ResponseHeaderModifier',
                  responseHeaderModifier: { set: [{ name: 'x-resp', value: 'yes' }], remove: ['x-backend'] },
                },
              ],
              backendRefs: [
                {
                  ...to('echo-v1'),
                  filters: [
                    {
                      type: 'RequestHeaderModifier',
                      requestHeaderModifier: { add: [{ name: 'x-backend-filter', value: 'v1' }] },
                    },
                  ],
                },
              ],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
              filters: [
                {
                  type: 'RequestRedirect',
                  requestRedirect: {
                    hostname: 'example.org',
                    path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' },
                    statusCode: 301,
                  },
                },
              ],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/prefix' } }],
              filters: [
                {
                  type: 'URLRewrite',
                  urlRewrite: { hostname: 'rewritten', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
                },
              ],
              backendRefs: [to('echo-v2')],
            },
            {
              matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }],
              filters: [{ type: 'RequestMirror', requestMirror: { backendRef: to('echo-v2') } }],
              backendRefs: [to('echo-v1')],
            },
            { matches: [{ path: { type: 'PathPrefix', value: '/nobackend' } }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/missing' } }], backendRefs: [to('does-not-exist')] },
          ],
        }),
      ],
    );
  });

  it('picks v1 or v2 by exact path, by path prefix and by header', async () => {
    expect((await env.request({ authority: echo, path: '/v1' })).echo?.name).toBe('echo-v1');
    expect((await env.request({ authority: echo, path: '/v2/deeper' })).echo?.name).toBe('echo-v2');
    expect((await env.request({ authority: echo, path: '/anything', headers: { version: 'two' } })).echo?.name).toBe(
      'echo-v2',
    );
  });

  it('answers 404 when routes exist but none matches (exact is exact, prefixes are element-wise)', async () => {
    expect((await env.request({ authority: echo, path: '/v1/more' })).status).toBe(404);
    expect((await env.request({ authority: echo, path: '/v2x' })).status).toBe(404);
    expect((await env.request({ authority: echo, path: '/' })).status).toBe(404);
  });

  it('never sends traffic to a weight-0 backend', async () => {
    for (let i = 0; i < 8; i++)
      expect((await env.request({ authority: echo, path: '/split' })).echo?.name).toBe('echo-v2');
  });

  it('applies request and response header modifiers, rule and backend level', async () => {
    const reply = await env.request({
      authority: echo,
      path: '/mod',
      headers: { 'x-set': 'old', 'x-add': 'one', 'x-gone': 'bye' },
    });
    expect(reply.status).toBe(200);
    expect(reply.echo?.headers['x-set']).toBe('new');
    expect(reply.echo?.headers['x-add']).toBe('one,two');
    expect(reply.echo?.headers['x-gone']).toBeUndefined();
    expect(reply.echo?.headers['x-backend-filter']).toBe('v1');
    expect(reply.headers['x-resp']).toBe('yes');
    expect(reply.headers['x-backend']).toBeUndefined();
  });

  it('redirects with the configured status and a Location built from the request', async () => {
    const reply = await env.request({ authority: echo, path: '/old/lemon?q=1' });
    expect(reply.status).toBe(301);
    expect(reply.headers['location']).toBe('http://example.org/new/lemon?q=1');
  });

  it('rewrites the path prefix and host before forwarding', async () => {
    const reply = await env.request({ authority: echo, path: '/prefix/one/two?k=v' });
    expect(reply.echo).toMatchObject({ name: 'echo-v2', path: '/one/two?k=v' });
    expect(reply.echo?.headers['host']).toBe('rewritten');
  });

  it('answers 500 for rules it cannot serve: unimplemented filter, no backends, unknown backend', async () => {
    expect((await env.request({ authority: echo, path: '/mirror' })).status).toBe(500);
    expect((await env.request({ authority: echo, path: '/nobackend' })).status).toBe(500);
    expect((await env.request({ authority: echo, path: '/missing' })).status).toBe(500);
  });

  it('a parentRef with a port leaves the other ports alone', async () => {
    await env.pushAndWait(
      [],
      [
        l7('HTTPRoute', 'port-81', {
          parentRefs: [serviceParent('echo', 81)],
          rules: [{ backendRefs: [to('echo-v2')] }],
        }),
      ],
    );
    for (let i = 0; i < 4; i++)
      expect((await env.request({ authority: '10.7.1.1:81', path: '/zzz' })).echo?.name).toBe('echo-v2');
    expect((await env.request({ authority: echo, path: '/zzz' })).status).toBe(404);
    // Precedence spans every attached route: the exact /v1 of the port-less route still wins on 81.
    expect((await env.request({ authority: '10.7.1.1:81', path: '/v1' })).echo?.name).toBe('echo-v1');
  });

  it('spreads weighted traffic over both backends', async () => {
    await env.pushAndWait(
      [],
      [
        route('weights', {
          rules: [
            {
              matches: [{ path: { type: 'Exact', value: '/weighted' } }],
              backendRefs: [to('echo-v1', 1), to('echo-v2', 1)],
            },
          ],
        }),
      ],
    );
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++)
      seen.add((await env.request({ authority: echo, path: '/weighted' })).echo?.name ?? '');
    expect(seen).toEqual(new Set(['echo-v1', 'echo-v2']));
  });
});

describe('telemetry', () => {
  it('counts istio_requests_total with reporter="waypoint" and the response code, and logs each request', async () => {
    const text = await env.metrics();
    const line = (code: number) =>
      text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('istio_requests_total{') &&
            l.includes(`response_code="${code}"`) &&
            l.includes('reporter="waypoint"'),
        );
    expect(line(200)).toContain('source_principal="spiffe://cluster.local/ns/default/sa/client"');
    expect(line(200)).toContain('destination_service="echo.default.svc.cluster.local"');
    expect(line(200)).toContain('source_workload="client"');
    expect(line(200)).toContain('connection_security_policy="mutual_tls"');
    expect(line(404)).toContain('response_flags="NR"');
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*response_code="200"/);
    expect(text).toMatch(/istio_request_bytes_count\{/);
    expect(text).toMatch(/istio_response_bytes_sum\{/);

    const logs = env.accessLogs();
    const redirect = logs.find((l) => l['path'] === '/old/lemon?q=1');
    expect(redirect).toMatchObject({
      method: 'GET',
      response_code: 301,
      route_name: 'default/by-path.4',
      authority: 'echo',
    });
    const routed = logs.find((l) => l['path'] === '/v2/deeper');
    expect(routed).toMatchObject({
      response_code: 200,
      route_name: 'default/by-path.1',
      upstream_host: 'envoy://connect_originate/127.7.1.12:8080',
      upstream_cluster: 'inbound-vip|80|http|echo-v2.default.svc.cluster.local',
      downstream_local_address: echo,
      'src.identity': identityOf('client'),
      'dst.workload': 'echo-v2',
    });
    expect(typeof routed?.['duration']).toBe('number');
    expect(logs.find((l) => l['path'] === '/' && l['response_code'] === 404)).toMatchObject({ response_flags: 'NR' });
  });
});
