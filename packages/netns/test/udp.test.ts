// Root tier: UDP sockets made inside a throwaway namespace, marked, and how iptables treats them there.
import type { Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { bindUdpInNamespace, getMark, isNetnsError, localAddressOf, type NetnsError } from '../src/index.ts';
import { cleanupNamespaces, createNamespace, hasIptables, rootTierMissing } from './namespaces.ts';

const sockets: UdpSocket[] = [];
afterAll(() => {
  for (const socket of sockets) socket.close();
  cleanupNamespaces();
});

async function track(socket: Promise<UdpSocket>): Promise<UdpSocket> {
  const s = await socket;
  sockets.push(s);
  return s;
}

/** A UDP "server" answering `<tag>:<payload>` to whoever sent it. */
function answerAs(socket: UdpSocket, tag: string): void {
  socket.on('message', (message, remote) => socket.send(`${tag}:${message}`, remote.port, remote.address));
}

async function ask(client: UdpSocket, host: string, port: number, text: string): Promise<string> {
  client.send(text, port, host);
  const [message] = (await once(client, 'message', { signal: AbortSignal.timeout(3000) })) as [Buffer];
  return message.toString();
}

describe.skipIf(rootTierMissing !== '')(`UDP sockets inside a network namespace (${rootTierMissing || 'root'})`, () => {
  it('binds an address that exists only inside the namespace, with the mark set, and exchanges datagrams', async () => {
    const ns = createNamespace();
    ns.run('ip', ['addr', 'add', '10.0.2.2/24', 'dev', 'lo']);
    const server = await track(bindUdpInNamespace({ netns: ns.fd, host: '10.0.2.2', port: 0, mark: 1337 }));
    answerAs(server, 'pong');
    expect(getMark(server)).toBe(1337);
    const bound = localAddressOf(server);
    expect(bound).toMatchObject({ address: '10.0.2.2', family: 4 });
    expect(server.address()).toMatchObject({ address: '10.0.2.2', port: bound.port });
    const client = await track(bindUdpInNamespace({ netns: ns.fd, host: '0.0.0.0', port: 0 }));
    expect(getMark(client)).toBe(0);
    expect(await ask(client, '10.0.2.2', bound.port, 'ping')).toBe('pong:ping');
    // the same address is not this process's own: outside the namespace the bind fails, typed
    const error = await bindUdpInNamespace({ host: '10.0.2.2', port: 0 }).catch((e: unknown) => e as NetnsError);
    expect(isNetnsError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERRNO', errno: 'EADDRNOTAVAIL' });
  });

  it('binds IPv6 loopback inside the namespace, and reuseAddr/reusePort let two sockets share a port', async () => {
    const ns = createNamespace();
    const first = await track(
      bindUdpInNamespace({ netns: ns.fd, host: '::1', port: 0, reuseAddr: true, reusePort: true }),
    );
    const { port } = localAddressOf(first);
    const second = await track(
      bindUdpInNamespace({ netns: ns.fd, host: '::1', port, reuseAddr: true, reusePort: true }),
    );
    expect(localAddressOf(second)).toMatchObject({ address: '::1', port, family: 6 });
    const taken = await bindUdpInNamespace({ netns: ns.fd, host: '::1', port }).catch((e: unknown) => e as NetnsError);
    expect(taken).toMatchObject({ code: 'ERRNO', errno: 'EADDRINUSE' });
  });

  it('rejects a host that is not an IP literal and a bad namespace fd with a NetnsError', async () => {
    await expect(bindUdpInNamespace({ host: 'localhost', port: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(bindUdpInNamespace({ netns: 0, host: '127.0.0.1', port: 0 })).rejects.toMatchObject({
      code: 'SETNS_FAILED',
    });
  });
});

describe.skipIf(rootTierMissing !== '' || !hasIptables)(
  `UDP port 53 redirected to 15053 unless marked 1337 (${rootTierMissing || (hasIptables ? 'root' : 'needs iptables')})`,
  () => {
    it("an unmarked query is captured by the 15053 socket; a marked one (ztunnel's upstream) reaches port 53", async () => {
      const ns = createNamespace();
      ns.run('ip', ['addr', 'add', '10.0.2.2/24', 'dev', 'lo']);
      ns.run('iptables', [
        '-t',
        'nat',
        '-A',
        'OUTPUT',
        '-p',
        'udp',
        '--dport',
        '53',
        '-m',
        'mark',
        '!',
        '--mark',
        '0x539/0xfff',
        '-j',
        'REDIRECT',
        '--to-ports',
        '15053',
      ]);
      const proxy = await track(bindUdpInNamespace({ netns: ns.fd, host: '127.0.0.1', port: 15053, mark: 1337 }));
      answerAs(proxy, 'proxy');
      const upstream = await track(bindUdpInNamespace({ netns: ns.fd, host: '10.0.2.2', port: 53 }));
      answerAs(upstream, 'upstream');
      const app = await track(bindUdpInNamespace({ netns: ns.fd, host: '0.0.0.0', port: 0 }));
      expect(await ask(app, '10.0.2.2', 53, 'q1')).toBe('proxy:q1');
      const marked = await track(bindUdpInNamespace({ netns: ns.fd, host: '0.0.0.0', port: 0, mark: 1337 }));
      expect(await ask(marked, '10.0.2.2', 53, 'q2')).toBe('upstream:q2');
    });
  },
);
