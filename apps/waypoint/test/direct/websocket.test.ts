// WebSocket (HTTP/1.1 Upgrade) through the waypoint: an RFC 6455 client (test/helpers/websocket.ts) → a TCP listener
// playing the client's ztunnel (one HBONE tunnel per connection, authority = the Service VIP) → waypoint
// → HBONE → the echo pod's WebSocket server (test/helpers/websocket.ts). The upgrade request is routed
// and policy-checked like any request (a DENY gets 403 and no 101), a 101 splices the connections (text
// and a 1 MiB binary message both ways, intact), closing from either side closes the other, a non-101
// answer is relayed as a response, JWT applies (401 for a bad token), and the upgrade is counted
// (response_code 101) and logged. RFC 8441 from an h2c client is translated to an HTTP/1.1 upgrade.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternBytes, TestEnv } from '../helpers/env.ts';
import { gatewayTarget, l7, service, serviceTarget, workload } from '../helpers/resources.ts';
import { acceptFor, webSocketServer, WsClient, type WsConnection } from '../helpers/websocket.ts';

const BASE = '127.7.41';
const VIP = '10.7.41.1';
let env: TestEnv;
let clientZtunnel: Server;
const connections: WsConnection[] = [];
const ISSUER = 'https://issuer-ws.example';
let issuerKey: CryptoKey;
let strangerKey: CryptoKey;
const token = (key: CryptoKey): Promise<string> =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'ws' })
    .setIssuer(ISSUER)
    .setSubject('alice')
    .setExpirationTime('1h')
    .sign(key);

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  const keys = await generateKeyPair('ES256');
  issuerKey = keys.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'ws', alg: 'ES256', use: 'sig' };
  env = await TestEnv.create(BASE);
  await env.backend('echo-v1', `${BASE}.11`, {
    sa: 'echo',
    onUpgrade: webSocketServer({
      refuse: (req) => (req.url === '/refused' ? { status: 400, body: 'no websocket here' } : undefined),
      onConnection: (connection) => connections.push(connection),
      onMessage: (connection, data) => {
        if (data === 'close-please') connection.close(4001, 'server says bye');
        else if (typeof data === 'string') connection.send(`echo-v1: ${data}`);
        else connection.send(data);
      },
    }),
  });
  env.push(
    [
      service({ name: 'echo', vip: VIP, ports: [{ port: 80, targetPort: 8080 }] }),
      workload({ name: 'echo-v1', ip: `${BASE}.11`, sa: 'echo', services: { echo: [[80, 8080]] } }),
    ],
    [
      l7('AuthorizationPolicy', 'deny-ws', {
        targetRefs: [serviceTarget('echo')],
        action: 'DENY',
        rules: [{ to: [{ operation: { paths: ['/denied'] } }] }],
      }),
      l7('RequestAuthentication', 'jwt', {
        targetRefs: [gatewayTarget],
        jwtRules: [{ issuer: ISSUER, jwks: JSON.stringify({ keys: [jwk] }) }],
      }),
    ],
  );
  await env.startWaypoint();
  // The client's ztunnel: each accepted TCP connection is carried in its own HBONE tunnel to the VIP.
  clientZtunnel = createTcpServer((socket: Socket) => {
    socket.pause();
    void env.tunnel(`${VIP}:80`).then(
      (tunnel) => {
        socket.pipe(tunnel.stream).pipe(socket);
        socket.on('error', () => tunnel.stream.destroy());
        tunnel.stream.on('error', () => socket.destroy());
        socket.on('close', () => tunnel.stream.destroy());
        tunnel.stream.on('close', () => socket.destroy());
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  clientZtunnel.listen(0, `${BASE}.200`);
  await once(clientZtunnel, 'listening');
});
afterAll(async () => {
  clientZtunnel?.close();
  await env?.close();
});

/**
 * An HTTP/1.1 WebSocket upgrade request through the client's ztunnel: the relayed response, or the 101
 * (its Sec-WebSocket-Accept checked) as an open client.
 */
async function upgrade(
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<
  | { kind: 'response'; response: IncomingMessage; body: string }
  | { kind: 'upgrade'; response: IncomingMessage; ws: WsClient }
> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: `${BASE}.200`,
      port: (clientZtunnel.address() as AddressInfo).port,
      path,
      headers: {
        host: 'echo',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': key,
        ...extraHeaders,
      },
    });
    req.on('upgrade', (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (response.headers['sec-websocket-accept'] !== acceptFor(key)) reject(new Error('bad Sec-WebSocket-Accept'));
      resolve({ kind: 'upgrade', response, ws: new WsClient(socket, head) });
    });
    req.on('response', async (response: IncomingMessage) => {
      let body = '';
      for await (const chunk of response) body += (chunk as Buffer).toString();
      resolve({ kind: 'response', response, body });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An open WebSocket and the server's side of it. */
async function open(
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<{ ws: WsClient; server: WsConnection; response: IncomingMessage }> {
  const before = connections.length;
  const result = await upgrade(path, extraHeaders);
  if (result.kind !== 'upgrade') throw new Error(`no upgrade: ${result.response.statusCode} ${result.body}`);
  const server = await env.eventually(
    () => connections[before],
    (c) => c !== undefined,
  );
  return { ws: result.ws, server: server!, response: result.response };
}

describe('WebSocket over HTTP/1.1 Upgrade', () => {
  it('carries messages both ways, with the Sec-WebSocket handshake end to end', async () => {
    const { ws, server, response } = await open('/chat?room=1');
    expect(response.statusCode).toBe(101);
    expect(response.headers['x-ws-backend']).toBe('yes');
    expect(server.req.url).toBe('/chat?room=1');
    expect(server.req.headers['sec-websocket-version']).toBe('13');
    expect(server.req.headers['upgrade']).toBe('websocket');
    expect(server.req.headers['x-request-id']).toBeTruthy();
    for (const text of ['hello', 'second', 'ünïcödé ✓']) {
      ws.send(text);
      expect(await ws.next()).toBe(`echo-v1: ${text}`);
    }
    server.send('pushed by the server');
    expect(await ws.next()).toBe('pushed by the server');
    ws.close(1000, 'done');
    expect((await ws.closed).code).toBe(1000);
    await Promise.all([server.closed, ws.socketClosed]);
    expect(server.clientCloseCode).toBe(1000);
  });

  it('carries a 1 MiB binary message both ways intact', async () => {
    const { ws, server } = await open('/big');
    const message = patternBytes(1024 * 1024 + 5);
    ws.send(message);
    const echoed = (await ws.next()) as Buffer;
    expect({ bytes: echoed.length, sha256: sha256(echoed) }).toEqual({
      bytes: message.length,
      sha256: sha256(message),
    });
    ws.close();
    await Promise.all([server.closed, ws.socketClosed]);
  });

  it('closes the client when the server closes, and the server when the client goes away', async () => {
    const first = await open('/server-closes');
    first.ws.send('close-please');
    expect(await first.ws.closed).toEqual({ code: 4001, reason: 'server says bye' });
    await Promise.all([first.server.closed, first.ws.socketClosed]);

    // An abrupt end on the client's side (its connection reset, no close frame) reaches the server.
    const second = await open('/reset');
    second.ws.socket.destroy();
    await second.server.closed;
    expect(second.server.clientCloseCode).toBeUndefined();
    // And the server going away without a close frame reaches the client.
    const third = await open('/server-goes');
    third.server.socket.destroy();
    await third.ws.socketClosed;
  });

  it('denies the upgrade by policy with 403 and no 101, and never reaches the server', async () => {
    const before = connections.length;
    const denied = await upgrade('/denied');
    expect(denied.kind).toBe('response');
    const { response, body } = denied as { response: IncomingMessage; body: string };
    expect(response.statusCode).toBe(403);
    expect(body).toBe('RBAC: access denied');
    expect(response.headers['upgrade']).toBeUndefined();
    expect(connections.length).toBe(before);
  });

  it('applies RequestAuthentication to the upgrade: a bad token gets 401, a valid one is stripped and passes', async () => {
    const before = connections.length;
    const bad = await upgrade('/jwt', { authorization: `Bearer ${await token(strangerKey)}` });
    expect(bad.kind).toBe('response');
    expect((bad as { response: IncomingMessage }).response.statusCode).toBe(401);
    expect(connections.length).toBe(before);
    const { ws, server } = await open('/jwt', { authorization: `Bearer ${await token(issuerKey)}` });
    expect(server.req.headers['authorization']).toBeUndefined();
    ws.send('authenticated');
    expect(await ws.next()).toBe('echo-v1: authenticated');
    ws.close();
    await Promise.all([server.closed, ws.socketClosed]);
  });

  it('relays a non-101 answer from the server as a normal response', async () => {
    const refused = await upgrade('/refused');
    expect(refused.kind).toBe('response');
    const { response, body } = refused as { response: IncomingMessage; body: string };
    expect(response.statusCode).toBe(400);
    expect(body).toBe('no websocket here');
  });

  it('counts the upgrades in istio_requests_total (101) and logs them with their bytes', async () => {
    const metrics = await env.metrics();
    const count = (code: number): number =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith('istio_requests_total{') && l.includes(`response_code="${code}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(count(101)).toBe(6);
    expect(count(401)).toBe(1);
    expect(count(403)).toBe(1);
    expect(count(400)).toBe(1);
    const big = await env.eventually(
      () => env.accessLogs().find((l) => l['path'] === '/big'),
      (l) => l !== undefined,
    );
    expect(big).toMatchObject({ method: 'GET', response_code: 101, response_flags: '-' });
    expect(big!['bytes_received'] as number).toBeGreaterThan(1024 * 1024);
    expect(big!['bytes_sent'] as number).toBeGreaterThan(1024 * 1024);
  });
});

describe('WebSocket over HTTP/2 (RFC 8441 extended CONNECT) from an h2c client', () => {
  /** An h2c session on a tunnel to the VIP, once the waypoint's SETTINGS arrived. */
  async function session(): Promise<ClientHttp2Session> {
    const tunnel = await env.tunnel(`${VIP}:80`);
    const h2 = h2connect('http://echo', { createConnection: () => tunnel.stream as never });
    h2.on('error', () => {});
    await once(h2, 'remoteSettings');
    return h2;
  }
  const connectHeaders = (path: string) => ({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': path,
    ':authority': 'echo',
    'sec-websocket-version': '13',
  });

  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and carries messages both ways over an HTTP/1.1 upgrade upstream', async () => {
    const h2 = await session();
    try {
      expect(h2.remoteSettings.enableConnectProtocol).toBe(true);
      const before = connections.length;
      const stream = h2.request(connectHeaders('/h2-chat'));
      const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
      expect(headers[':status']).toBe(200);
      const server = await env.eventually(
        () => connections[before],
        (c) => c !== undefined,
      );
      expect(server!.req.url).toBe('/h2-chat');
      expect(server!.req.headers['upgrade']).toBe('websocket');
      const ws = new WsClient(stream, Buffer.alloc(0));
      ws.send('over h2');
      expect(await ws.next()).toBe('echo-v1: over h2');
      const big = patternBytes(1024 * 1024);
      ws.send(big);
      expect(sha256((await ws.next()) as Buffer)).toBe(sha256(big));
      ws.close(1000);
      expect((await ws.closed).code).toBe(1000);
      await server!.closed;
    } finally {
      h2.destroy();
    }
  });

  it('denies an extended CONNECT by policy with 403', async () => {
    const h2 = await session();
    try {
      const stream = h2.request(connectHeaders('/denied'));
      const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
      expect(headers[':status']).toBe(403);
      let body = '';
      for await (const chunk of stream) body += (chunk as Buffer).toString();
      expect(body).toBe('RBAC: access denied');
    } finally {
      h2.destroy();
    }
  });
});
