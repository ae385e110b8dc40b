// HTTP/2 attacks and faults (users-reliability B5, B8 rows 28-31): the attacked connection ends, the
// server stays up, and a well-behaved tunnel on another connection keeps moving bytes meanwhile.
import { constants as h2 } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ConnectRequest, HboneServer } from '../src/index.ts';
import { echo, eventually, newPool, readAll, startServer, startTcp } from './fixtures.ts';
import { CLIENT_ID, connectOptions, pki, serverCreds } from './pki.ts';
import {
  Flag,
  FrameType,
  connectHeaders,
  frame,
  headerBlock,
  ping,
  rawH2Client,
  rstStream,
  settings,
} from './h2-frames.ts';

const clientCreds = pki.creds(CLIENT_ID);

async function harness(options: Partial<Parameters<typeof startServer>[0]> = {}) {
  let calls = 0;
  const { server, port } = await startServer({
    credentials: () => serverCreds,
    onConnect: (request: ConnectRequest) => {
      calls++;
      echo(request);
    },
    ...options,
  });
  const pool = newPool();
  const good = await pool.connect(connectOptions(pki, port));
  // The bystander: 1 MiB echoed while the attack runs.
  const bystander = (async () => {
    good.stream.end(Buffer.alloc(1 << 20, 1));
    return (await readAll(good.stream)).length;
  })();
  return { server, port, pool, bystander, calls: () => calls };
}

/** After the attack: the attacked connection is gone, the server still serves new tunnels. */
async function expectSurvived(h: Awaited<ReturnType<typeof harness>>, server: HboneServer): Promise<void> {
  expect(await h.bystander).toBe(1 << 20);
  await eventually(() => server.stats().connections <= 1, 'attacked connection to be cleaned up');
  const fresh = await newPool().connect(connectOptions(pki, h.port));
  fresh.stream.end('still here');
  expect((await readAll(fresh.stream)).toString()).toBe('still here');
}

describe('HTTP/2 abuse', () => {
  it('Rapid Reset: a flood of HEADERS + RST_STREAM ends the attacking connection', async () => {
    const h = await harness();
    const attacker = await rawH2Client(h.port, clientCreds);
    let id = 1;
    for (let batch = 0; batch < 20 && !attacker.socket.destroyed; batch++) {
      const frames = [];
      for (let i = 0; i < 500; i++, id += 2) frames.push(connectHeaders(id), rstStream(id, h2.NGHTTP2_CANCEL));
      attacker.socket.write(Buffer.concat(frames));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await attacker.closed;
    expect(attacker.reader.goaway()).toBeDefined();
    expect(h.calls()).toBeLessThan(10_000);
    await expectSurvived(h, h.server);
  });

  it('CONTINUATION flood: endless header fragments end the connection before any callback', async () => {
    const h = await harness();
    const attacker = await rawH2Client(h.port, clientCreds);
    const block = headerBlock([
      [':method', 'CONNECT'],
      [':authority', '1.2.3.4:80'],
    ]);
    attacker.socket.write(frame(FrameType.HEADERS, 0, 1, block));
    const fragment = frame(FrameType.CONTINUATION, 0, 1, headerBlock([['x-filler', 'a'.repeat(1000)]]));
    for (let i = 0; i < 2000 && !attacker.socket.destroyed; i++) attacker.socket.write(fragment);
    await attacker.closed;
    expect(h.calls()).toBe(1); // only the bystander
    await expectSurvived(h, h.server);
  });

  it('SETTINGS flood from a peer that does not read: the connection is ended', async () => {
    const h = await harness();
    const attacker = await rawH2Client(h.port, clientCreds);
    attacker.socket.pause();
    // Small ACKs fit in socket buffers for a while; flood detection starts once they back up.
    const flood = Buffer.concat(Array.from({ length: 1000 }, () => settings([[0x4, 65535]])));
    for (let i = 0; i < 400 && !attacker.socket.destroyed; i++) {
      attacker.socket.write(flood);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await attacker.closed;
    await expectSurvived(h, h.server);
  });

  it('PING flood from a peer that does not read: the connection is ended', async () => {
    const h = await harness();
    const attacker = await rawH2Client(h.port, clientCreds);
    attacker.socket.pause();
    const flood = Buffer.concat(Array.from({ length: 1000 }, () => ping()));
    for (let i = 0; i < 400 && !attacker.socket.destroyed; i++) {
      attacker.socket.write(flood);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await attacker.closed;
    await expectSurvived(h, h.server);
  });

  it('stream-count exhaustion: streams beyond 200 are refused, the first 200 work', async () => {
    const h = await harness();
    const attacker = await rawH2Client(h.port, clientCreds);
    const frames = [];
    for (let i = 0; i < 210; i++) frames.push(connectHeaders(1 + 2 * i));
    attacker.socket.write(Buffer.concat(frames));
    await eventually(
      () =>
        attacker.reader.frames.filter((f) => f.type === FrameType.HEADERS || f.type === FrameType.RST_STREAM).length >=
        210,
      'answers to all 210 streams',
    );
    const answered = new Set(attacker.reader.frames.filter((f) => f.type === FrameType.HEADERS).map((f) => f.streamId));
    const refused = attacker.reader.frames.filter(
      (f) => f.type === FrameType.RST_STREAM && f.payload.readUInt32BE(0) === h2.NGHTTP2_REFUSED_STREAM,
    );
    expect(answered.size).toBe(200);
    expect(refused).toHaveLength(10);
    attacker.socket.destroy();
    await expectSurvived(h, h.server);
  });

  it('huge headers (over 64 KiB, or too many pairs) are refused without a callback', async () => {
    const h = await harness();
    const big = await rawH2Client(h.port, clientCreds);
    const block = headerBlock([
      [':method', 'CONNECT'],
      [':authority', '1.2.3.4:80'],
      ['x-big', 'b'.repeat(100_000)],
    ]);
    big.socket.write(frame(FrameType.HEADERS, 0, 1, block.subarray(0, 16_000)));
    for (let offset = 16_000; offset < block.length; offset += 16_000) {
      const last = offset + 16_000 >= block.length;
      big.socket.write(
        frame(FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, 1, block.subarray(offset, offset + 16_000)),
      );
    }
    const many = await rawH2Client(h.port, clientCreds);
    const pairs: [string, string][] = Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'v']);
    many.socket.write(connectHeaders(1, '1.2.3.4:80', pairs));
    await eventually(
      () =>
        [big, many].every(
          (c) =>
            c.socket.destroyed ||
            c.reader.frames.some((f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY),
        ),
      'both refused',
    );
    expect(h.calls()).toBe(1);
    big.socket.destroy();
    many.socket.destroy();
    await expectSurvived(h, h.server);
  });

  it('a peer that never grants window: the backend is backpressured, memory stays bounded', async () => {
    let written = 0;
    const { port: backendPort } = await startTcp((socket) => {
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
      };
      socket.on('drain', () => {
        written += chunk.length;
        pump();
      });
      pump();
    });
    const { splice } = await import('../src/index.ts');
    const h = await harness({
      onConnect: (request) => {
        if (request.authority.port !== 9999) return echo(request);
        const backend = netConnect({ host: '127.0.0.1', port: backendPort });
        backend.once('connect', () => splice(request.accept().stream, backend));
      },
    });
    const attacker = await rawH2Client(h.port, clientCreds);
    // Default 64 KiB windows, and never a WINDOW_UPDATE.
    attacker.socket.write(connectHeaders(1, '127.0.0.1:9999'));
    await eventually(() => written > 0, 'backend to start');
    let last = -1;
    // Wait until the backend is stuck (no progress for a while).
    for (let stable = 0; stable < 5;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stable = written === last ? stable + 1 : 0;
      last = written;
    }
    // Stream window (64 KiB) + HTTP/2 and socket buffers: far below what an unbounded copy would take.
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(await h.bystander).toBe(1 << 20);
    attacker.socket.destroy();
    await expectSurvived(h, h.server);
  });

  it('tunnels whose consumer stalls are reset once a connection holds more than its buffer budget', async () => {
    const { server, port } = await startServer({
      credentials: () => serverCreds,
      maxBufferedPerConnection: 1 << 20,
      onConnect: (request) => void request.accept(), // never reads
    });
    const pool = newPool();
    const tunnels = await Promise.all(Array.from({ length: 3 }, () => pool.connect(connectOptions(pki, port))));
    const resets: number[] = [];
    for (const tunnel of tunnels) {
      tunnel.stream.on('close', () => resets.push((tunnel.stream as unknown as { rstCode: number }).rstCode));
      tunnel.stream.write(Buffer.alloc(3 << 20));
    }
    await eventually(() => server.stats().bufferResets >= 2, 'buffer resets');
    await eventually(
      () => resets.filter((code) => code === h2.NGHTTP2_ENHANCE_YOUR_CALM).length >= 2,
      'client sees resets',
    );
    expect(server.stats().connections).toBe(1);
  });
});

describe('slow peers', () => {
  it('slow-loris handshake: a TCP connection that never finishes TLS is closed', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds, handshakeTimeoutMs: 200 });
    const errors: string[] = [];
    server.on('connectionError', (error) => errors.push(error.code));
    const silent = netConnect({ host: '127.0.0.1', port });
    const partial = netConnect({ host: '127.0.0.1', port });
    partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // a ClientHello that never completes
    await Promise.all(
      [silent, partial].map((socket) => new Promise((resolve) => socket.on('close', resolve).on('error', () => {}))),
    );
    expect(errors).toEqual(['HANDSHAKE_TIMEOUT', 'HANDSHAKE_TIMEOUT']);
  });

  it('a connection that never sends CONNECT headers is closed after headerTimeoutMs', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds, headerTimeoutMs: 300 });
    const idle = await rawH2Client(port, clientCreds);
    const started = performance.now();
    const closedAt = idle.closed.then(() => performance.now() - started);
    await eventually(() => server.stats().connections === 1, 'the idle connection to be accepted');
    // Not before the timeout (keepalive would take 10 s + 20 s, so only the header timer closes it this soon).
    expect(await Promise.race([closedAt, new Promise((resolve) => setTimeout(() => resolve('open'), 150))])).toBe(
      'open',
    );
    const elapsed = await closedAt;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    await eventually(() => server.stats().connections === 0, 'the server to forget the connection');
  });

  it('the server closes a connection whose peer stops answering PINGs', async () => {
    const { port } = await startServer({
      credentials: () => serverCreds,
      keepalive: { intervalMs: 50, timeoutMs: 100 },
    });
    const mute = await rawH2Client(port, clientCreds);
    mute.socket.write(connectHeaders(1)); // a live stream, so only keepalive can end it
    await mute.closed;
    expect(mute.reader.frames.some((f) => f.type === FrameType.PING && !(f.flags & Flag.ACK))).toBe(true);
  });

  it('refuses TCP connections beyond maxConnections', async () => {
    const { port } = await startServer({ credentials: () => serverCreds, maxConnections: 1 });
    const first = await rawH2Client(port, clientCreds);
    const second = netConnect({ host: '127.0.0.1', port });
    await new Promise((resolve) => second.on('close', resolve).on('error', () => {}));
    expect(first.socket.destroyed).toBe(false);
    first.socket.destroy();
  });
});
