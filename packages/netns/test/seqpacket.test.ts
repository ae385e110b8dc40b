import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeqpacketServer, SeqpacketSocket, type SeqpacketMessage } from '../src/index.ts';
import { addonAvailable } from './namespaces.ts';

const dir = mkdtempSync(join(tmpdir(), 'netns-seqpacket-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readAll(fd: number): string {
  const buffer = Buffer.alloc(256);
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  return buffer.subarray(0, n).toString();
}

describe.skipIf(!addonAvailable)('SOCK_SEQPACKET with SCM_RIGHTS (needs the native addon)', () => {
  it('delivers each packet whole with its bytes and the passed fd, which reads the same file', async () => {
    const [a, b] = SeqpacketSocket.pair();
    const file = join(dir, 'passed.txt');
    writeFileSync(file, 'contents seen through the received fd');
    const fd = openSync(file, 'r');
    const messages: SeqpacketMessage[] = [];
    b.on('message', (message) => messages.push(message));
    a.send(Buffer.from('first'), [fd]);
    a.send(Buffer.from('second'));
    closeSync(fd); // the receiver's copy stays usable
    while (messages.length < 2) await once(b, 'message');
    expect(messages.map((m) => m.data.toString())).toEqual(['first', 'second']);
    expect(messages[0]!.fds).toHaveLength(1);
    expect(messages[1]!.fds).toEqual([]);
    const received = messages[0]!.fds[0]!;
    expect(readAll(received)).toBe('contents seen through the received fd');
    closeSync(received);
    a.close();
    b.close();
  });

  it('flags a packet longer than maxMessageBytes as truncated (ZDS treats that as an error)', async () => {
    const [a, b] = SeqpacketSocket.pair({ maxMessageBytes: 8 });
    a.send(Buffer.from('0123456789abcdef'));
    const [message] = (await once(b, 'message')) as [SeqpacketMessage];
    expect(message.truncated).toBe(true);
    expect(message.data.toString()).toBe('01234567');
    a.close();
    b.close();
  });

  it('emits close on the other end when one end closes', async () => {
    const [a, b] = SeqpacketSocket.pair();
    const closed = once(b, 'close');
    a.close();
    await closed;
    expect(b.closed).toBe(true);
  });

  it('a server on a path accepts a client; messages flow both ways', async () => {
    const path = join(dir, 'zds.sock');
    const server = new SeqpacketServer(path);
    const accepted = once(server, 'connection') as Promise<[SeqpacketSocket]>;
    const client = SeqpacketSocket.connect(path);
    const [peer] = await accepted;
    client.send(Buffer.from([0x0a, 0x02, 0x08, 0x01]));
    const [hello] = (await once(peer, 'message')) as [SeqpacketMessage];
    expect([...hello.data]).toEqual([0x0a, 0x02, 0x08, 0x01]);
    peer.send(Buffer.from('ack'));
    const [ack] = (await once(client, 'message')) as [SeqpacketMessage];
    expect(ack.data.toString()).toBe('ack');
    client.close();
    peer.close();
    server.close();
  });

  it('sending on a closed socket is a typed error with errno EBADF', () => {
    const [a, b] = SeqpacketSocket.pair();
    a.close();
    expect(() => a.send(Buffer.from('late'))).toThrow(
      expect.objectContaining({ name: 'NetnsError', code: 'ERRNO', errno: 'EBADF', syscall: 'sendmsg' }),
    );
    b.close();
  });

  it('connecting to a path nobody listens on is a typed error with errno ENOENT', () => {
    expect(() => SeqpacketSocket.connect(join(dir, 'nobody.sock'))).toThrow(
      expect.objectContaining({ code: 'ERRNO', errno: 'ENOENT', syscall: 'connect' }),
    );
  });
});
