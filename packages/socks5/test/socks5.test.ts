import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptSocks5, answerSocks5, socksReply, type SocksTarget } from '../src/server.ts';
import { socksConnect } from '../src/client.ts';

let server: Server | undefined;
afterEach(() => server?.close());

async function serve(handler: (socket: Socket) => Promise<void>): Promise<number> {
  server = createServer((socket) => void handler(socket).catch(() => socket.destroy()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('SOCKS5', () => {
  it('parses IPv4 and domain CONNECT requests and then carries bytes', async () => {
    const targets: SocksTarget[] = [];
    const port = await serve(async (socket) => {
      targets.push(await acceptSocks5(socket));
      answerSocks5(socket, socksReply.succeeded);
      socket.resume();
      socket.on('data', (data) => socket.write(Buffer.concat([Buffer.from('echo:'), data])));
    });
    const a = await socksConnect({ proxy: { host: '127.0.0.1', port }, target: { host: '10.1.2.3', port: 8080 } });
    a.write('hi');
    const [reply] = (await once(a, 'data')) as [Buffer];
    expect(reply.toString()).toBe('echo:hi');
    a.destroy();
    const b = await socksConnect({
      proxy: { host: '127.0.0.1', port },
      target: { host: 'echo.default.svc.cluster.local', port: 80 },
    });
    b.destroy();
    expect(targets).toEqual([
      { kind: 'ip', host: '10.1.2.3', port: 8080 },
      { kind: 'domain', host: 'echo.default.svc.cluster.local', port: 80 },
    ]);
  });

  it('answers failures with the reply code and closes', async () => {
    const port = await serve(async (socket) => {
      await acceptSocks5(socket);
      answerSocks5(socket, socksReply.connectionRefused);
    });
    await expect(
      socksConnect({ proxy: { host: '127.0.0.1', port }, target: { host: '10.0.0.1', port: 1 } }),
    ).rejects.toMatchObject({ reply: 5 });
  });

  it.each([
    ['a non-SOCKS5 greeting', Buffer.from([0x04, 0x01, 0x00]), /only SOCKS5/],
    ['no acceptable auth method', Buffer.from([0x05, 0x01, 0x02]), /no-auth/],
    ['a BIND command', Buffer.from([0x05, 0x01, 0x00, 0x05, 0x02, 0x00, 0x01, 1, 2, 3, 4, 0, 80]), /only CONNECT/],
    ['an unknown address type', Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x09]), /address type 9/],
    ['a truncated request', Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01]), /closed the connection/],
  ])('rejects %s with a clear error', async (_name, bytes, message) => {
    const errors: Error[] = [];
    const port = await serve(async (socket) => {
      try {
        await acceptSocks5(socket, 2000);
      } catch (error) {
        errors.push(error as Error);
        socket.destroy();
      }
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    client.resume();
    await once(client, 'connect');
    client.end(bytes);
    await once(client, 'close');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors[0]?.message).toMatch(message);
  });
});
