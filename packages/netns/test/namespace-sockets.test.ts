// Root tier: real namespaces, real traffic, iptables inside the namespace.
import { once } from 'node:events';
import { closeSync, openSync, readlinkSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectInNamespace, listenInNamespace, namespaceId, originalDestination } from '../src/index.ts';
import { createSocketFd, getMark, getSocketOption, listenFd, localAddressOf, setMark } from '../src/index.ts';
import { SeqpacketSocket, type SeqpacketMessage } from '../src/index.ts';
import type { ListenOptions, OriginalDestination } from '../src/index.ts';
import { cleanupNamespaces, createNamespace, hasIptables, rootTierMissing, type TestNamespace } from './namespaces.ts';

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  cleanupNamespaces();
});

/** Echo server ("echo:" + bytes, then end) inside `ns`, recording what each accepted socket saw. */
async function echoIn(
  ns: TestNamespace,
  options: Omit<ListenOptions, 'netns' | 'port'> & { port?: number },
): Promise<{ server: Server; port: number; seen: { destination: OriginalDestination; mark: number }[] }> {
  const seen: { destination: OriginalDestination; mark: number }[] = [];
  const server = await listenInNamespace({ port: 0, ...options, netns: ns.fd }, (socket) => {
    seen.push({ destination: originalDestination(socket), mark: getMark(socket) });
    socket.on('data', (chunk) => socket.end(`echo:${chunk}`));
  });
  servers.push(server);
  return { server, port: (server.address() as AddressInfo).port, seen };
}

async function roundTrip(socket: Socket, text: string): Promise<string> {
  socket.on('connect', () => socket.write(text));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'end');
  socket.destroy();
  return Buffer.concat(chunks).toString();
}

const ownNamespace = () => readlinkSync('/proc/thread-self/ns/net');

describe.skipIf(rootTierMissing !== '')(`sockets inside a network namespace (${rootTierMissing || 'root'})`, () => {
  let ns: TestNamespace;
  beforeAll(() => {
    ns = createNamespace();
    ns.run('ip', ['addr', 'add', '10.9.9.1/24', 'dev', 'lo']);
  });

  it('a listener made inside the namespace accepts a client run there by ip netns exec; bytes flow', async () => {
    const before = ownNamespace();
    // 10.9.9.1 exists only inside the namespace: binding it proves where the socket lives.
    const { port } = await echoIn(ns, { host: '10.9.9.1' });
    expect(ownNamespace()).toBe(before); // the event loop's thread came back
    const reply = await ns.exec('bash', ['-c', `exec 3<>/dev/tcp/10.9.9.1/${port}; printf hello >&3; cat <&3`]);
    expect(reply).toBe('echo:hello');
  });

  it('binding the namespace-only address outside the namespace fails with EADDRNOTAVAIL', () => {
    expect(() => listenFd({ host: '10.9.9.1', port: 0 })).toThrow(
      expect.objectContaining({ code: 'ERRNO', errno: 'EADDRNOTAVAIL', syscall: 'bind' }),
    );
  });

  it('a connecting socket made inside the namespace reaches a server there; node:net streams both ways', async () => {
    const { port, seen } = await echoIn(ns, { host: '10.9.9.1' });
    const before = ownNamespace();
    const socket = connectInNamespace({ netns: ns.fd, host: '10.9.9.1', port });
    expect(ownNamespace()).toBe(before);
    expect(await roundTrip(socket, 'ping')).toBe('echo:ping');
    // No NAT (so no conntrack record) in this namespace: the original destination is the local address.
    expect(seen[0]!.destination).toEqual({ address: '10.9.9.1', port, family: 4, via: 'local' });
  });

  it('a connection refused inside the namespace errors the node:net way', async () => {
    const socket = connectInNamespace({ netns: ns.fd, host: '10.9.9.1', port: 1 });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('SO_MARK is set on listeners and connections and reads back; accepted sockets inherit it', async () => {
    const { port, seen } = await echoIn(ns, { host: '10.9.9.1', mark: 1337 });
    const socket = connectInNamespace({ netns: ns.fd, host: '10.9.9.1', port, mark: 7 });
    socket.on('connect', () => expect(getMark(socket)).toBe(7));
    expect(await roundTrip(socket, 'x')).toBe('echo:x');
    expect(seen[0]!.mark).toBe(1337);
    const plain = createSocketFd(4, { netns: ns.fd });
    setMark(plain, 0x111);
    expect(getMark(plain)).toBe(0x111);
    closeSync(plain);
  });

  it('IP_FREEBIND and IP_TRANSPARENT read back and allow binding an address no interface has', () => {
    expect(() => listenFd({ netns: ns.fd, host: '10.77.0.1', port: 0 })).toThrow(
      expect.objectContaining({ errno: 'EADDRNOTAVAIL' }),
    );
    const freebind = listenFd({ netns: ns.fd, host: '10.77.0.1', port: 0, freebind: true });
    expect(getSocketOption(freebind, 'freebind')).toBe(1);
    expect(getSocketOption(freebind, 'transparent')).toBe(0);
    closeSync(freebind);
    const transparent = listenFd({ netns: ns.fd, host: '10.77.0.2', port: 0, transparent: true });
    expect(getSocketOption(transparent, 'transparent')).toBe(1);
    closeSync(transparent);
    const v6 = listenFd({ netns: ns.fd, host: '::', port: 0, transparent: true, freebind: true });
    expect(getSocketOption(v6, 'transparent')).toBe(1);
    expect(getSocketOption(v6, 'freebind')).toBe(1);
    expect(getSocketOption(v6, 'v6only')).toBe(0);
    closeSync(v6);
  });

  it('SO_REUSEPORT lets two listeners share a port; without it the second gets EADDRINUSE', () => {
    const first = listenFd({ netns: ns.fd, host: '0.0.0.0', port: 0, reusePort: true });
    expect(getSocketOption(first, 'reuseport')).toBe(1);
    const { port } = localAddressOf(first);
    const second = listenFd({ netns: ns.fd, host: '0.0.0.0', port, reusePort: true });
    expect(localAddressOf(second).port).toBe(port);
    expect(() => listenFd({ netns: ns.fd, host: '0.0.0.0', port })).toThrow(
      expect.objectContaining({ code: 'ERRNO', errno: 'EADDRINUSE', syscall: 'bind' }),
    );
    closeSync(first);
    closeSync(second);
  });

  it('namespaceId tells namespaces apart and recognises the same one through another fd', () => {
    const again = openSync(`/var/run/netns/${ns.name}`, 'r');
    const own = openSync('/proc/thread-self/ns/net', 'r');
    expect(namespaceId(again)).toEqual(namespaceId(ns.fd));
    expect(namespaceId(own)).not.toEqual(namespaceId(ns.fd));
    closeSync(again);
    closeSync(own);
  });

  it('a namespace fd passed over SOCK_SEQPACKET (as ZDS does) creates a listener in that namespace', async () => {
    const [agent, ztunnel] = SeqpacketSocket.pair();
    agent.send(Buffer.from('add pod'), [ns.fd]);
    const [message] = (await once(ztunnel, 'message')) as [SeqpacketMessage];
    expect(message.data.toString()).toBe('add pod');
    const received = message.fds[0]!;
    expect(namespaceId(received)).toEqual(namespaceId(ns.fd));
    const server = await listenInNamespace({ netns: received, host: '10.9.9.1', port: 0 }, (socket) =>
      socket.end('from the passed namespace'),
    );
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    expect(await ns.exec('bash', ['-c', `exec 3<>/dev/tcp/10.9.9.1/${port}; cat <&3`])).toBe(
      'from the passed namespace',
    );
    closeSync(received);
    agent.close();
    ztunnel.close();
  });
});

/** An iptables rule written as it is typed (`-t nat -A OUTPUT …`), split into argv. */
const rule = (text: string): string[] => text.split(' ');

describe.skipIf(rootTierMissing !== '' || !hasIptables)(
  `original destination through iptables REDIRECT inside a namespace (${rootTierMissing || (hasIptables ? 'root' : 'needs iptables')})`,
  () => {
    let ns: TestNamespace;
    beforeAll(() => {
      ns = createNamespace();
      ns.run('ip', ['addr', 'add', '10.9.9.1/24', 'dev', 'lo']);
      ns.run('ip', ['addr', 'add', 'fd00:9::1/64', 'dev', 'lo', 'nodad']);
    });

    it('IPv4: a connection to 10.9.9.9:80 redirected to the listener reports 10.9.9.9:80 via SO_ORIGINAL_DST', async () => {
      const { port, seen } = await echoIn(ns, { host: '0.0.0.0' });
      ns.run('iptables', rule(`-t nat -A OUTPUT -p tcp -d 10.9.9.9 --dport 80 -j REDIRECT --to-ports ${port}`));
      const reply = await ns.exec('bash', ['-c', 'exec 3<>/dev/tcp/10.9.9.9/80; printf captured >&3; cat <&3']);
      expect(reply).toBe('echo:captured');
      expect(seen[0]!.destination).toEqual({ address: '10.9.9.9', port: 80, family: 4, via: 'SO_ORIGINAL_DST' });
    });

    it('a dual-stack listener reads the IPv4 original destination too', async () => {
      const { port, seen } = await echoIn(ns, { host: '::' });
      ns.run('iptables', rule(`-t nat -A OUTPUT -p tcp -d 10.9.9.8 --dport 8080 -j REDIRECT --to-ports ${port}`));
      const socket = connectInNamespace({ netns: ns.fd, host: '10.9.9.8', port: 8080 });
      expect(await roundTrip(socket, 'dual')).toBe('echo:dual');
      expect(seen[0]!.destination).toEqual({ address: '10.9.9.8', port: 8080, family: 4, via: 'SO_ORIGINAL_DST' });
    });

    it('IPv6: a connection redirected by ip6tables reports its destination via IP6T_SO_ORIGINAL_DST', async () => {
      const { port, seen } = await echoIn(ns, { host: '::', ipv6Only: true });
      ns.run('ip6tables', rule(`-t nat -A OUTPUT -p tcp -d fd00:9::9 --dport 443 -j REDIRECT --to-ports ${port}`));
      const socket = connectInNamespace({ netns: ns.fd, host: 'fd00:9::9', port: 443 });
      expect(await roundTrip(socket, 'six')).toBe('echo:six');
      expect(seen[0]!.destination).toEqual({ address: 'fd00:9::9', port: 443, family: 6, via: 'IP6T_SO_ORIGINAL_DST' });
    });

    it('a connection that was not redirected reports its own destination', async () => {
      const { port, seen } = await echoIn(ns, { host: '10.9.9.1' });
      const socket = connectInNamespace({ netns: ns.fd, host: '10.9.9.1', port });
      expect(await roundTrip(socket, 'direct')).toBe('echo:direct');
      // With NAT loaded, conntrack records every connection: its original destination is where it went.
      expect(seen[0]!.destination).toEqual({ address: '10.9.9.1', port, family: 4, via: 'SO_ORIGINAL_DST' });
    });

    it('SO_MARK is observable: marked 1337 traffic skips the capture rule the way ztunnel own traffic does', async () => {
      const captured = await echoIn(ns, { host: '0.0.0.0' });
      const bypass = await echoIn(ns, { host: '0.0.0.0' });
      ns.run(
        'iptables',
        rule(
          `-t nat -A OUTPUT -p tcp -d 10.9.9.7 -m mark ! --mark 0x539/0xfff -j REDIRECT --to-ports ${captured.port}`,
        ),
      );
      ns.run(
        'iptables',
        rule(`-t nat -A OUTPUT -p tcp -d 10.9.9.7 -m mark --mark 0x539/0xfff -j REDIRECT --to-ports ${bypass.port}`),
      );
      expect(await roundTrip(connectInNamespace({ netns: ns.fd, host: '10.9.9.7', port: 80 }), 'a')).toBe('echo:a');
      expect(await roundTrip(connectInNamespace({ netns: ns.fd, host: '10.9.9.7', port: 80, mark: 1337 }), 'b')).toBe(
        'echo:b',
      );
      expect(captured.seen).toHaveLength(1);
      expect(bypass.seen).toHaveLength(1);
      expect(bypass.seen[0]!.destination).toMatchObject({ address: '10.9.9.7', port: 80, via: 'SO_ORIGINAL_DST' });
    });
  },
);
