import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestEnv } from '../helpers/env.ts';
import { service, workload } from '../helpers/resources.ts';

let env: TestEnv;
beforeAll(async () => {
  env = await TestEnv.create('127.7.9');
  await env.backend('echo-v1', '127.7.9.11', { sa: 'echo' });
  env.push([
    service({ name: 'echo', vip: '10.7.9.1', ports: [{ port: 80, targetPort: 8080 }] }),
    workload({ name: 'echo-v1', ip: '127.7.9.11', sa: 'echo', services: { echo: [[80, 8080]] } }),
  ]);
  await env.startWaypoint();
});
afterAll(() => env?.close());

it('smoke', async () => {
  const reply = await env.request({ authority: '10.7.9.1:80', path: '/hello' }).catch((e) => {
    console.log(JSON.stringify(env.logs(), null, 1));
    throw e;
  });
  console.log(reply.status, reply.body);
  console.log(JSON.stringify(env.accessLogs(), null, 1));
  expect(reply.status).toBe(200);
});
