import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BindError, listen } from './listen.ts';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => servers.splice(0).forEach((server) => server.close()));

describe('listen', () => {
  it('resolves with the bound port', async () => {
    const server = createServer();
    servers.push(server);
    const port = await listen(server, { host: '127.0.0.1', port: 0 }, 'admin');
    expect(port).toBeGreaterThan(0);
  });

  it('names role and address, and says another process holds it', async () => {
    const holder = createServer();
    servers.push(holder);
    const port = await listen(holder, { host: '127.0.0.1', port: 0 }, 'holder');
    const error = await listen(createServer(), { host: '127.0.0.1', port }, 'metrics').catch((caught) => caught);
    expect(BindError.isBindError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BIND_FAILED', role: 'metrics', errno: 'EADDRINUSE' });
    expect((error as Error).message).toBe(
      `metrics port 127.0.0.1:${port} cannot be bound (EADDRINUSE): another process is using it`,
    );
  });

  it('says when the address is not local', async () => {
    const error = await listen(createServer(), { host: '192.0.2.1', port: 0 }, 'HBONE').catch((caught) => caught);
    expect((error as Error).message).toMatch(
      /^HBONE port 192\.0\.2\.1:0 cannot be bound \(EADDRNOTAVAIL\): the address is not local/,
    );
  });
});
