// CONNECT tunnels end to end through real sockets: bytes, request details, refusals, half-close and
// reset mapping (facts §1.2, §1.6).
import { once } from 'node:events';
import { connect as h2Connect, constants as h2 } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HboneError, splice, type ConnectRequest, type SpliceResult } from '../src/index.ts';
import { eventually, newPool, onCleanup, readAll, startServer, startTcp } from './fixtures.ts';
import { CLIENT_ID, connectOptions, mtlsSocket, pki, SERVER_ID, serverCreds } from './pki.ts';
import { Flag, FrameType, connectHeaders, frame, headerBlock, rawH2Client } from './h2-frames.ts';

/** A bare node:http2 client over mTLS, for requests the pool would never send. */
async function rawSession(port: number) {
  const socket = await mtlsSocket(port, pki.creds(CLIENT_ID));
  const session = h2Connect(`https://127.0.0.1:${port}`, { createConnection: () => socket });
  session.on('error', () => {});
  onCleanup(() => void session.destroy());
  return session;
}

/** The answer to one raw request: its status, or the RST_STREAM code when the codec refused it. */
async function rawStatus(port: number, headers: Record<string, string>): Promise<{ status?: number; rst?: number }> {
  const session = await rawSession(port);
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => {});
  let status: number | undefined;
  stream.once('response', (response) => (status = Number(response[':status'])));
  await new Promise((resolve) => stream.once('close', resolve));
  return status === undefined ? { rst: stream.rstCode } : { status };
}

describe('CONNECT tunnels', () => {
  it('carries bytes both ways and hands the callback authority, identity, headers and addresses', async () => {
    const seen: ConnectRequest[] = [];
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        seen.push(request);
        const { stream } = request.accept({ baggage: 'k8s.namespace.name=server' });
        stream.pipe(stream);
      },
    });
    const pool = newPool();
    const tunnel = await pool.connect(
      connectOptions(pki, port, { authority: '10.1.2.3:8080', headers: { forwarded: 'for="10.0.0.5:43210"' } }),
    );
    expect(tunnel.status).toBe(200);
    expect(tunnel.headers['baggage']).toBe('k8s.namespace.name=server');
    expect(tunnel.headers['date']).toBeUndefined();
    expect(tunnel.peerIdentity).toBe(SERVER_ID);
    tunnel.stream.end(Buffer.alloc(300_000, 7));
    const back = await readAll(tunnel.stream);
    expect(back.equals(Buffer.alloc(300_000, 7))).toBe(true);
    const request = seen[0]!;
    expect(request.authority).toEqual({ kind: 'ip', address: '10.1.2.3', port: 8080, family: 4 });
    expect(request.rawAuthority).toBe('10.1.2.3:8080');
    expect(request.peerIdentity).toBe(CLIENT_ID);
    expect(request.headers['forwarded']).toBe('for="10.0.0.5:43210"');
    expect(request.headers[':method']).toBeUndefined();
    expect(request.local).toEqual({ address: '127.0.0.1', port });
    expect(request.remote.address).toBe('127.0.0.1');
  });

  it.each([
    ['[fd00::1]:443', { kind: 'ip', address: 'fd00::1', port: 443, family: 6 }],
    ['echo.default.svc.cluster.local:80', { kind: 'host', host: 'echo.default.svc.cluster.local', port: 80 }],
  ])('parses the authority %s', async (authority, parsed) => {
    let got: unknown;
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        got = request.authority;
        request.refuse(503);
      },
    });
    const pool = newPool();
    await expect(pool.connect(connectOptions(pki, port, { authority }))).rejects.toMatchObject({ status: 503 });
    expect(got).toEqual(parsed);
  });

  it('answers a refusal as HEADERS-only with the status, and the client gets a typed error', async () => {
    const { port } = await startServer({ credentials: () => serverCreds, onConnect: (request) => request.refuse(401) });
    const pool = newPool();
    const error = await pool.connect(connectOptions(pki, port)).catch((e: unknown) => e);
    expect(HboneError.isHboneError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TUNNEL_REFUSED', status: 401 });
    // The connection stays usable for the next tunnel.
    await expect(pool.connect(connectOptions(pki, port))).rejects.toMatchObject({ status: 401 });
    expect(pool.stats().dials).toBe(1);
  });

  it('answers 503 when the callback throws or rejects', async () => {
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: async (request) => {
        if (request.authority.port === 1) throw new Error('boom');
        await Promise.reject(new Error('async boom'));
      },
    });
    const pool = newPool();
    await expect(pool.connect(connectOptions(pki, port, { authority: '1.1.1.1:1' }))).rejects.toMatchObject({
      status: 503,
    });
    await expect(pool.connect(connectOptions(pki, port, { authority: '1.1.1.1:2' }))).rejects.toMatchObject({
      status: 503,
    });
  });

  it('answers 400 to a non-CONNECT method and to a bad authority, without calling back', async () => {
    let calls = 0;
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        calls++;
        request.refuse(503);
      },
    });
    expect(await rawStatus(port, { ':method': 'GET', ':path': '/', ':authority': '1.2.3.4:80' })).toEqual({
      status: 400,
    });
    for (const authority of ['1.2.3.4', 'host:', '[::1:80', '::1:80', '1.2.3.4:65536', 'bad_!host:80']) {
      expect(await rawStatus(port, { ':method': 'CONNECT', ':authority': authority }), authority).toEqual({
        status: 400,
      });
    }
    // Characters HTTP/2 forbids in :authority are refused by the codec itself (RST_STREAM PROTOCOL_ERROR).
    expect(await rawStatus(port, { ':method': 'CONNECT', ':authority': 'a b:80' })).toEqual({
      rst: h2.NGHTTP2_PROTOCOL_ERROR,
    });
    expect(calls).toBe(0);
  });

  it('error answers are a single HEADERS frame with END_STREAM, no body', async () => {
    const { port } = await startServer({ credentials: () => serverCreds, onConnect: (request) => request.refuse(401) });
    const raw = await rawH2Client(port, pki.creds(CLIENT_ID));
    raw.socket.write(
      Buffer.concat([
        connectHeaders(1),
        frame(
          FrameType.HEADERS,
          Flag.END_HEADERS,
          3,
          headerBlock([
            [':method', 'GET'],
            [':scheme', 'https'],
            [':path', '/'],
            [':authority', 'x:1'],
          ]),
        ),
      ]),
    );
    await eventually(() => raw.reader.frames.filter((f) => f.type === FrameType.HEADERS).length === 2, 'two answers');
    // (Node may follow with RST_STREAM NO_ERROR since the client never ended its side; no DATA either way.)
    const answers = raw.reader.frames.filter(
      (f) => (f.streamId === 1 || f.streamId === 3) && f.type !== FrameType.RST_STREAM,
    );
    expect(answers.map((f) => [f.streamId, f.type, f.flags & (Flag.END_STREAM | Flag.END_HEADERS)])).toEqual([
      [1, FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS],
      [3, FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS],
    ]);
    raw.socket.destroy();
  });

  it('honours half-close both ways: the server keeps sending after the client ends', async () => {
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        const { stream } = request.accept();
        const got: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => got.push(chunk));
        stream.on('end', () => {
          // Client half-closed: answer afterwards, then half-close ourselves.
          stream.write(Buffer.concat([Buffer.from('got:'), ...got]));
          setImmediate(() => stream.end('!'));
        });
      },
    });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    tunnel.stream.end('ping');
    expect((await readAll(tunnel.stream)).toString()).toBe('got:ping!');
  });

  it('maps FIN ↔ END_STREAM through splice on both legs', async () => {
    // Backend: waits for FIN, then replies and closes its side.
    const { port: backendPort } = await startTcp((socket) => {
      const got: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => got.push(chunk));
      socket.on('end', () => socket.end(`backend saw ${Buffer.concat(got).length} bytes`));
    });
    const results: Promise<unknown>[] = [];
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        const backend = netConnect({ host: '127.0.0.1', port: backendPort, allowHalfOpen: true });
        backend.once('connect', () => results.push(splice(request.accept().stream, backend).done));
      },
    });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    tunnel.stream.end(Buffer.alloc(100_000));
    expect((await readAll(tunnel.stream)).toString()).toBe('backend saw 100000 bytes');
    await eventually(() => results.length === 1, 'server splice');
    await expect(results[0]).resolves.toMatchObject({ outcome: 'clean', aToB: 100_000, bToA: 24 });
  });

  it('turns a backend reset mid-stream into an error at the client, not a clean EOF', async () => {
    const { port: backendPort } = await startTcp((socket) => {
      socket.write('partial');
      socket.once('data', () => socket.resetAndDestroy());
    });
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        const backend = netConnect({ host: '127.0.0.1', port: backendPort, allowHalfOpen: true });
        backend.once('connect', () => splice(request.accept().stream, backend));
      },
    });
    const pool = newPool();
    // Client side as the ztunnel does it: an app socket spliced to the tunnel.
    const { port: appPort } = await startTcp((socket) => {
      void pool.connect(connectOptions(pki, port)).then((tunnel) => splice(socket, tunnel.stream));
    });
    const app: Socket = netConnect({ host: '127.0.0.1', port: appPort });
    const received: Buffer[] = [];
    app.on('data', (chunk: Buffer) => received.push(chunk));
    await eventually(() => Buffer.concat(received).toString() === 'partial', 'first bytes');
    app.write('trigger reset');
    const [error] = (await once(app, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');
    app.destroy();
  });

  it('maps RST_STREAM codes: CANCEL reads as EOF, CONNECT_ERROR as an error', async () => {
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        const tunnel = request.accept();
        tunnel.stream.write('x');
        setTimeout(() => tunnel.close(request.authority.port === 1 ? 'cancel' : 'reset'), 20);
      },
    });
    const pool = newPool();
    const results: Promise<SpliceResult>[] = [];
    for (const authority of ['1.1.1.1:1', '1.1.1.1:2']) {
      const tunnel = await pool.connect(connectOptions(pki, port, { authority }));
      const { port: appPort } = await startTcp((socket) => results.push(splice(socket, tunnel.stream).done));
      const app = netConnect({ host: '127.0.0.1', port: appPort });
      const outcome = await new Promise<string>((resolve) => {
        app.on('data', () => {});
        app.once('end', () => resolve('eof'));
        app.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      app.destroy();
      expect(outcome).toBe(authority === '1.1.1.1:1' ? 'eof' : 'ECONNRESET');
    }
    expect(await Promise.all(results)).toMatchObject([{ outcome: 'clean' }, { outcome: 'reset' }]);
  });

  it('lets the server close a live tunnel from outside and lists live tunnels', async () => {
    const { server, port } = await startServer({ credentials: () => serverCreds });
    const pool = newPool();
    const tunnel = await pool.connect(connectOptions(pki, port));
    tunnel.stream.write('hi');
    await eventually(() => server.tunnels().length === 1, 'tunnel registered');
    const [live] = server.tunnels();
    expect(live!.request.peerIdentity).toBe(CLIENT_ID);
    const errored = new Promise<number | undefined>((resolve) =>
      tunnel.stream.once('close', () => resolve((tunnel.stream as unknown as { rstCode?: number }).rstCode)),
    );
    tunnel.stream.resume();
    live!.close();
    expect(await errored).toBe(h2.NGHTTP2_CONNECT_ERROR);
    await eventually(() => server.tunnels().length === 0, 'tunnel removed');
  });

  it('aborts a pending request when the client goes away', async () => {
    let signal: AbortSignal | undefined;
    const { port } = await startServer({
      credentials: () => serverCreds,
      onConnect: (request) => {
        signal = request.signal;
      },
    });
    const pool = newPool();
    const controller = new AbortController();
    const pending = pool.connect(connectOptions(pki, port, { signal: controller.signal }));
    await eventually(() => signal !== undefined, 'callback');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    await eventually(() => signal!.aborted, 'server-side abort');
  });
});
