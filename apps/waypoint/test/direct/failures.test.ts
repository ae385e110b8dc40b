// What clients see when things go wrong or look unusual: no endpoints (503 UH), dead endpoints (503 UF
// after retries on other hosts), route timeouts (504), malformed HTTP (400) — plus h2c prior knowledge
// from the client and plain-TCP endpoints outside the mesh.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { l7, service, serviceParent, workload } from '../helpers/resources.ts';

let env: TestEnv;
let plain: Server;

beforeAll(async () => {
  env = await TestEnv.create('127.7.6');
  await env.backend('echo-v1', '127.7.6.11', { sa: 'echo' });
  plain = createServer((_req, res) => res.end('plain app'));
  plain.listen(8080, '127.7.6.40');
  await once(plain, 'listening');
  env.push(
    [
      service({ name: 'echo', vip: '10.7.6.1', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'empty', vip: '10.7.6.2', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'dead', vip: '10.7.6.3', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'flaky', vip: '10.7.6.4', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'legacy', vip: '10.7.6.5', ports: [{ port: 80, targetPort: 8080 }] }),
      workload({
        name: 'echo-v1',
        ip: '127.7.6.11',
        sa: 'echo',
        services: { echo: [[80, 8080]], flaky: [[80, 8080]] },
      }),
      workload({ name: 'sick', ip: '127.7.6.12', healthy: false, services: { empty: [[80, 8080]] } }),
      workload({ name: 'gone', ip: '127.7.6.30', services: { dead: [[80, 8080]], flaky: [[80, 8080]] } }),
      workload({ name: 'outside', ip: '127.7.6.40', protocol: 'NONE', services: { legacy: [[80, 8080]] } }),
    ],
    [
      l7('HTTPRoute', 'timeouts', {
        parentRefs: [serviceParent('echo')],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/slow' } }],
            timeouts: { request: '100ms' },
            backendRefs: [{ name: 'echo', port: 80 }],
          },
          { backendRefs: [{ name: 'echo', port: 80 }] },
        ],
      }),
    ],
  );
  await env.startWaypoint();
});
afterAll(async () => {
  await env?.close();
  plain?.close();
});

it('answers 503 `no healthy upstream` when the Service has no healthy endpoint', async () => {
  const reply = await env.request({ authority: '10.7.6.2:80' });
  expect(reply).toMatchObject({ status: 503, body: 'no healthy upstream' });
  expect(env.accessLogs().find((l) => l['downstream_local_address'] === '10.7.6.2:80')).toMatchObject({
    response_flags: 'UH',
  });
});

it('answers 503 (UF) when every endpoint refuses the tunnel', async () => {
  const reply = await env.request({ authority: '10.7.6.3:80' });
  expect(reply.status).toBe(503);
  expect(reply.body).toContain('upstream connect error or disconnect/reset before headers');
  expect(env.accessLogs().find((l) => l['downstream_local_address'] === '10.7.6.3:80')).toMatchObject({
    response_flags: 'UF',
  });
});

it('retries a connect failure on another endpoint', async () => {
  for (let i = 0; i < 6; i++) expect((await env.request({ authority: '10.7.6.4:80' })).echo?.name).toBe('echo-v1');
});

it('answers 504 when the route timeout passes before the response', async () => {
  const reply = await env.request({ authority: '10.7.6.1:80', path: '/slow' });
  expect(reply).toMatchObject({ status: 504, body: 'upstream request timeout' });
  expect((await env.request({ authority: '10.7.6.1:80', path: '/fast' })).status).toBe(200);
});

it('answers 400 to a malformed HTTP/1.1 request', async () => {
  const { data } = await env.tcp('10.7.6.1:80', 'GET / HTTP/1.1\r\nbad header line\r\n\r\n');
  expect(data).toMatch(/^HTTP\/1\.1 400 /);
});

it('serves h2c prior-knowledge clients', async () => {
  const tunnel = await env.tunnel('10.7.6.1:80');
  const session = h2connect('http://echo', { createConnection: () => tunnel.stream as never });
  try {
    const stream = session.request({ ':path': '/h2?x=1', ':method': 'POST', 'x-h2': 'yes' });
    stream.end('h2 body');
    const [headers] = (await once(stream, 'response')) as [Record<string, string>];
    let body = '';
    for await (const chunk of stream) body += (chunk as Buffer).toString();
    expect(headers[':status']).toBe(200);
    expect(JSON.parse(body)).toMatchObject({
      name: 'echo-v1',
      method: 'POST',
      path: '/h2?x=1',
      body: 'h2 body',
      headers: { 'x-h2': 'yes', host: 'echo:80' },
    });
  } finally {
    session.destroy();
  }
  expect(env.accessLogs().find((l) => l['path'] === '/h2?x=1')).toMatchObject({
    protocol: 'HTTP/2.0',
    response_code: 200,
  });
});

it('reaches endpoints outside the mesh over plain TCP', async () => {
  const reply = await env.request({ authority: '10.7.6.5:80' });
  expect(reply).toMatchObject({ status: 200, body: 'plain app' });
  expect(env.accessLogs().find((l) => l['downstream_local_address'] === '10.7.6.5:80')).toMatchObject({
    upstream_host: '127.7.6.40:8080',
  });
});
