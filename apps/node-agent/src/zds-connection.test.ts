// Request sequencing on one ZDS connection, against a fake peer (no sockets, no fds).
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeWorkloadRequest, encodeWorkloadResponse, encodeZdsHello, type zds } from '@ambient-ts/istio-api';
import { ZdsConnection, type AddRequest, type RequestOutcome } from './zds-connection.ts';

class FakePeer extends EventEmitter {
  readonly sent: { request: zds.WorkloadRequest; fds: readonly number[] }[] = [];
  closed = false;
  send(data: Uint8Array, fds: readonly number[] = []): void {
    this.sent.push({ request: decodeWorkloadRequest(data), fds });
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
  deliver(data: Uint8Array, fds: number[] = []): void {
    this.emit('message', { data, fds, truncated: false });
  }
  hello(version: zds.Version = 'V1'): void {
    this.deliver(encodeZdsHello({ version }));
  }
  ack(error?: string): void {
    this.deliver(encodeWorkloadResponse({ ack: error ? { error } : {} }));
  }
}

const log = { debug() {}, info() {}, warn() {}, error() {} };

function setup(ackTimeoutMs = 1000) {
  const peer = new FakePeer();
  const events: string[] = [];
  const connection = new ZdsConnection(peer, {
    id: 1,
    ackTimeoutMs,
    log,
    onHello: () => events.push('hello'),
    onClose: (_c, reason) => events.push(`closed: ${reason}`),
  });
  return { peer, events, connection };
}

const closed: number[] = [];
const add = (uid: string, fd = 40): AddRequest => ({
  kind: 'add',
  uid,
  pod: `default/${uid}`,
  info: { name: uid, namespace: 'default', serviceAccount: 'sa' },
  open: () => ({ fd, close: () => closed.push(fd) }),
});
const kinds = (peer: FakePeer) =>
  peer.sent.map(({ request }) =>
    request.add ? `add ${request.add.uid}` : request.del ? `del ${request.del.uid}` : 'snapshot',
  );

afterEach(() => {
  vi.useRealTimers();
  closed.length = 0;
});

describe('ZdsConnection', () => {
  it('sends nothing before ZdsHello V1, then one request at a time, each after the previous Ack', async () => {
    const { peer, events, connection } = setup();
    const outcomes: Promise<RequestOutcome>[] = [
      connection.request(add('a', 41)),
      connection.request({ kind: 'snapshot-sent' }),
      connection.request({ kind: 'del', uid: 'a', pod: 'default/a' }),
    ];
    expect(peer.sent).toEqual([]);
    peer.hello();
    expect(events).toEqual(['hello']);
    expect(kinds(peer)).toEqual(['add a']);
    expect(peer.sent[0]).toEqual({
      request: { add: { uid: 'a', workloadInfo: { name: 'a', namespace: 'default', serviceAccount: 'sa' } } },
      fds: [41],
    });
    expect(closed).toEqual([41]); // the agent's copy of the fd is closed once sent
    expect(connection.backlog).toBe(3);
    peer.ack();
    expect(kinds(peer)).toEqual(['add a', 'snapshot']);
    expect(peer.sent[1]?.fds).toEqual([]);
    peer.ack('not now');
    expect(kinds(peer)).toEqual(['add a', 'snapshot', 'del a']);
    expect(peer.sent[2]?.request).toEqual({ del: { uid: 'a' } });
    peer.ack();
    expect(await Promise.all(outcomes)).toEqual([
      { result: 'ack' },
      { result: 'nack', error: 'not now' },
      { result: 'ack' },
    ]);
    expect([connection.acks, connection.nacks, connection.backlog]).toEqual([2, 1, 0]);
  });

  it('an Add whose namespace cannot be opened, or too big for 1024 bytes, is not sent; the next one is', async () => {
    const { peer, connection } = setup();
    peer.hello();
    const gone: AddRequest = {
      ...add('gone'),
      open: () => {
        throw new Error('pod default/gone: its network namespace atn-x is gone (ENOENT)');
      },
    };
    const huge: AddRequest = { ...add('huge'), uid: 'u'.repeat(1100) };
    const results = [connection.request(gone), connection.request(huge), connection.request(add('b'))];
    expect(kinds(peer)).toEqual(['add b']);
    peer.ack();
    const [first, second, third] = await Promise.all(results);
    expect(first).toEqual({
      result: 'not-sent',
      error: 'pod default/gone: its network namespace atn-x is gone (ENOENT)',
    });
    expect(second?.result).toBe('not-sent');
    expect(second?.result === 'not-sent' && second.error).toMatch(
      /^Add default\/huge is 11\d\d bytes, more than ZDS's 1024$/,
    );
    expect(third).toEqual({ result: 'ack' });
  });

  it('no Ack within the timeout drops the connection and every queued request', async () => {
    vi.useFakeTimers();
    const { peer, events, connection } = setup(500);
    peer.hello();
    const results = [connection.request(add('a')), connection.request({ kind: 'snapshot-sent' })];
    vi.advanceTimersByTime(499);
    expect(peer.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(peer.closed).toBe(true);
    expect(connection.phase).toBe('closed');
    expect(events.at(-1)).toBe('closed: no Ack for Add default/a within 500 ms');
    expect(await Promise.all(results)).toEqual([
      { result: 'dropped', error: 'no Ack for Add default/a within 500 ms' },
      { result: 'dropped', error: 'no Ack for Add default/a within 500 ms' },
    ]);
    expect(await connection.request(add('late'))).toEqual({ result: 'dropped', error: 'connection closed' });
  });

  it('closes on a hello of another version, no hello in time, an answer nobody asked for, fds from ztunnel', () => {
    vi.useFakeTimers();
    const v0 = setup();
    v0.peer.hello('NOT_USED');
    expect(v0.events).toEqual(['closed: ZdsHello version NOT_USED is not supported (only V1)']);

    const silent = setup(300);
    vi.advanceTimersByTime(300);
    expect(silent.events).toEqual(['closed: no ZdsHello within 300 ms']);

    const unasked = setup();
    unasked.peer.hello();
    unasked.peer.ack();
    expect(unasked.events).toEqual(['hello', 'closed: a WorkloadResponse with no request in flight']);

    const fds = setup();
    fds.peer.hello();
    void fds.connection.request({ kind: 'snapshot-sent' });
    fds.peer.deliver(encodeWorkloadResponse({ ack: {} }), [7]);
    expect(fds.events.at(-1)).toBe('closed: ztunnel sent 1 fd(s); ZDS responses carry none');

    const peerGone = setup();
    peerGone.peer.close();
    expect(peerGone.events).toEqual(['closed: ztunnel closed the connection']);
  });
});
