// The DNS forwarder's upstream sockets carry PACKET_MARK when @ambient-ts/netns is usable (root: SO_MARK needs
// CAP_NET_ADMIN), and are plain sockets without a mark.
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defaultUpstreamSockets } from '@ambient-ts/dns';
import { markedUpstreamSockets } from './upstream-sockets.ts';

const netns = await import('@ambient-ts/netns').catch(() => undefined);
const usable = netns?.netnsSupport().available === true && process.getuid?.() === 0;
const reason = usable ? 'root, native helper' : 'skipped: needs root and the @ambient-ts/netns addon';

describe('DNS upstream sockets', () => {
  it('without PACKET_MARK they are the plain defaults', async () => {
    expect(await markedUpstreamSockets(undefined)).toBe(defaultUpstreamSockets);
  });

  it.skipIf(!usable)(`UDP and TCP upstream sockets carry mark 1337 (${reason})`, async () => {
    const sockets = await markedUpstreamSockets(1337);
    const udp = await sockets.udp('udp4');
    expect(netns!.getMark(udp)).toBe(1337);
    udp.close();
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tcp = await sockets.tcp({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    await new Promise((resolve) => tcp.once('connect', resolve));
    expect(netns!.getMark(tcp)).toBe(1337);
    tcp.destroy();
    server.close();
  });
});
