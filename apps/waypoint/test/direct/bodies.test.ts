// The data path, byte for byte: request and response bodies — large, many, concurrent, over HTTP/1.1
// keep-alive and h2c — cross the waypoint intact (SHA-256 on both sides). Every hop is HTTP/1.1 or HTTP/2
// framing written onto HBONE tunnel streams. Without the string→Buffer adapter of src/stream-shims.ts the
// large-body test fails every run (a corrupted status line: "Parse Error: Expected HTTP/"), so this file
// is what keeps that adapter honest. The test client stands in for a ztunnel but, unlike one, writes
// through node:http too, so it uses the same adapter.
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HboneTunnel } from '@ambient-ts/hbone';
import { asHttpConnection } from '../../src/stream-shims.ts';
import { patternBytes, TestEnv } from '../helpers/env.ts';
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
afterAll(async () => {
  await env?.close();
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** One HTTP/1.1 keep-alive request on an open tunnel; the raw response body. */
async function send(tunnel: HboneTunnel, method: string, path: string, body?: Buffer): Promise<Buffer> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => asHttpConnection(tunnel.stream) as never,
      method,
      path,
      headers: { host: 'echo', connection: 'keep-alive', ...(body ? { 'content-length': body.length } : {}) },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
  expect(response.statusCode).toBe(200);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

it('carries many request bodies of varied sizes on one keep-alive connection intact', async () => {
  const tunnel = await env.tunnel('10.7.9.1:80');
  try {
    for (let i = 0; i < 40; i++) {
      const size = [0, 1, 17, 1023, 16_384, 16_385, 65_535, 262_144][i % 8]! + i;
      const body = patternBytes(size + 7).subarray(7);
      const answer = JSON.parse((await send(tunnel, 'POST', '/sha256', body)).toString()) as Record<string, unknown>;
      expect(answer).toEqual({ name: 'echo-v1', bytes: body.length, sha256: sha256(body) });
    }
  } finally {
    tunnel.stream.destroy();
  }
});

it('carries large bodies both ways, concurrently, intact', async () => {
  const sizes = [1, 2, 4].map((mib) => mib * 1024 * 1024 + 13);
  await Promise.all(
    sizes.map(async (size, i) => {
      const tunnel = await env.tunnel('10.7.9.1:80');
      try {
        const body = patternBytes(size).subarray(i);
        const up = JSON.parse((await send(tunnel, 'PUT', '/sha256', body)).toString()) as Record<string, unknown>;
        expect(up).toEqual({ name: 'echo-v1', bytes: body.length, sha256: sha256(body) });
        const down = await send(tunnel, 'GET', `/bytes/${size}`);
        expect({ bytes: down.length, sha256: sha256(down) }).toEqual({
          bytes: size,
          sha256: sha256(patternBytes(size)),
        });
      } finally {
        tunnel.stream.destroy();
      }
    }),
  );
});

it('carries bodies intact over h2c (HTTP/2 prior knowledge from the client)', async () => {
  const tunnel = await env.tunnel('10.7.9.1:80');
  const session = h2connect('http://echo', { createConnection: () => tunnel.stream as never });
  try {
    const one = async (size: number): Promise<void> => {
      const body = patternBytes(size);
      const stream = session.request({ ':method': 'POST', ':path': '/sha256' });
      stream.end(body);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
        name: 'echo-v1',
        bytes: size,
        sha256: sha256(body),
      });
    };
    await Promise.all([0, 100, 70_000, 1_048_576, 3_000_001].map(one));
  } finally {
    session.destroy();
    tunnel.stream.destroy();
  }
});
