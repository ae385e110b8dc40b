// The plain client netns mode runs inside pods: one GET, one JSON line, a failed connection as {"error"}. Run
// here in this process's own namespace (no root needed): what it does is the same in a pod.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const client = join(import.meta.dirname, '../src/pod-http-client.ts');
const runClient = async (...args: string[]) =>
  JSON.parse((await promisify(execFile)(process.execPath, [client, ...args])).stdout) as Record<string, unknown>;

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/reset') {
      request.socket.destroy();
      return;
    }
    response.writeHead(201, { 'x-seen': String(request.headers['authorization']) });
    response.end(`${request.method} ${request.url} ${request.headers['connection']}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

it('prints status, headers and body; sends the given headers and connection: close', async () => {
  const result = await runClient(`http://127.0.0.1:${port}/secure?x=1`, '{"authorization":"Bearer t"}');
  expect(result).toMatchObject({ status: 201, body: 'GET /secure?x=1 close', headers: { 'x-seen': 'Bearer t' } });
});

it('a refused, reset or timed-out connection is an error line, not a crash', async () => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const closedPort = (closed.address() as AddressInfo).port;
  closed.close();
  expect(await runClient(`http://127.0.0.1:${closedPort}/`)).toEqual({
    error: `connect ECONNREFUSED 127.0.0.1:${closedPort}`,
  });
  expect(await runClient(`http://127.0.0.1:${port}/reset`)).toEqual({ error: 'ECONNRESET: socket hang up' });
  const silent = createServer(() => undefined); // accepts, never answers
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    const result = await runClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, '{}', '300');
    expect(result).toEqual({ error: 'timed out after 300 ms' });
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});
