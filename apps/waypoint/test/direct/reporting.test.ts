// A request is reported exactly once, even when reporting itself throws: here the access-log sink throws
// on every "request complete" line (after the metrics were recorded). The client still gets its answer,
// the request is counted once (no second, 500 report), the tunnel's in-flight count returns to 0 and the
// connection keeps serving.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HboneTunnel } from '@ambient-ts/hbone';
import { TestEnv } from '../helpers/env.ts';
import { l7, service, serviceParent, workload } from '../helpers/resources.ts';

let env: TestEnv;

beforeAll(async () => {
  env = await TestEnv.create('127.7.8');
  await env.backend('echo-v1', '127.7.8.11', { sa: 'echo' });
  env.push(
    [
      service({ name: 'echo', vip: '10.7.8.1', ports: [{ port: 80, targetPort: 8080 }] }),
      workload({ name: 'echo-v1', ip: '127.7.8.11', sa: 'echo', services: { echo: [[80, 8080]] } }),
    ],
    [
      l7('HTTPRoute', 'only-api', {
        parentRefs: [serviceParent('echo')],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'echo', port: 80 }] },
        ],
      }),
    ],
  );
  await env.startWaypoint({}, { failAccessLog: true });
});
afterAll(async () => {
  await env?.close();
});

/** One keep-alive HTTP/1.1 request on an open tunnel. */
async function send(tunnel: HboneTunnel, path: string): Promise<{ status: number; body: string }> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => tunnel.stream as never,
      path,
      headers: { host: 'echo', connection: 'keep-alive' },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
  let body = '';
  for await (const chunk of response) body += (chunk as Buffer).toString();
  return { status: response.statusCode ?? 0, body };
}

const count = (metrics: string, code: number): number =>
  metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('istio_requests_total{') &&
        line.includes('destination_service_name="echo"') &&
        line.includes(`response_code="${code}"`),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

it('answers the client, reports once and frees the in-flight slot when the access-log sink throws', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const tunnel = await env.tunnel('10.7.8.1:80');
  try {
    const forwarded = await send(tunnel, '/api/one');
    expect(forwarded.status).toBe(200);
    expect(JSON.parse(forwarded.body)).toMatchObject({ name: 'echo-v1', path: '/api/one' });
    // A local reply (404: no route matches) goes through the same report stage.
    const local = await send(tunnel, '/elsewhere');
    expect(local.status).toBe(404);
    // The connection still serves after both.
    expect((await send(tunnel, '/api/two')).status).toBe(200);

    const metrics = await env.eventually(
      () => env.metrics(),
      (text) => count(text, 200) >= 2 && count(text, 404) >= 1,
    );
    expect({ ok: count(metrics, 200), notFound: count(metrics, 404), failed: count(metrics, 500) }).toEqual({
      ok: 2,
      notFound: 1,
      failed: 0,
    });
    const tunnels = (env.waypoint.configDump()['tunnels'] as { originalDst: string; inflight: number }[]).filter(
      (t) => t.originalDst === '10.7.8.1:80',
    );
    expect(tunnels).toEqual([expect.objectContaining({ inflight: 0 })]);
    const failures = env
      .logs()
      .filter((line) => String(line['message']).startsWith('reporting a finished request failed'));
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ level: 'error', error: 'the access-log sink is broken' });
    expect(env.accessLogs()).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    tunnel.stream.destroy();
  }
});
