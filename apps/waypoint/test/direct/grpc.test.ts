// gRPC and HTTP/2 to upstreams through the waypoint, with an independent client and server
// (@grpc/grpc-js, and Python grpcio as a second client when installed): unary, a non-OK status with its message (trailers back to the client), server, client
// and bidirectional streaming, a denied call (grpc-status 7 in a trailers-only 200), no route (12), an
// HTTP/1.1 server on a port declared gRPC (UNAVAILABLE, UPE with the reason in the log), trailers both
// ways for h2c, session reuse and GOAWAY, and the protocol choice: HTTP/2 upstream when the port is
// declared HTTP2/gRPC, HTTP/1.1 kept for an HTTP/1.1 client on a plain http port.
import { connect as netConnect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as h2connect, createServer as createH2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import {
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  Metadata,
  Server as GrpcServer,
  ServerCredentials,
  status as grpcStatus,
  type Client,
  type ServiceDefinition,
  type ServiceError,
  type ClientReadableStream,
  type ClientWritableStream,
  type ClientDuplexStream,
  type ServerReadableStream,
  type ServerDuplexStream,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHboneServer, type HboneServer } from '@ambient-ts/hbone';
import type { LocalCa } from '@ambient-ts/certs';
import { TestEnv } from '../helpers/env.ts';
import { gatewayTarget, identityOf, l7, service, workload } from '../helpers/resources.ts';

// Python grpcio from Debian (python3-grpcio): a client that shares no code with Node's.
const hasGrpcio = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import grpc'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Three calls over one channel; prints one JSON line per call: the reply or the status code and details.
const PYTHON_CLIENT = `
import grpc, json, sys
channel = grpc.insecure_channel(sys.argv[1])
for name, body in (('Echo', b'py'), ('Fail', b'x'), ('Denied', b'x')):
    call = channel.unary_unary('/test.Echo/' + name)
    try:
        print(json.dumps({'reply': call(body, timeout=10).decode()}))
    except grpc.RpcError as e:
        print(json.dumps({'code': e.code().name, 'details': e.details()}))
`;

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (name: string, responseStream = false, requestStream = false) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: raw.serialize,
  requestDeserialize: raw.deserialize,
  responseSerialize: raw.serialize,
  responseDeserialize: raw.deserialize,
});
const definition: ServiceDefinition = {
  Echo: method('Echo'),
  Fail: method('Fail'),
  Denied: method('Denied'),
  Count: method('Count', true),
  Sum: method('Sum', false, true),
  Chat: method('Chat', true, true),
};

type Unary = (
  request: Buffer,
  metadata: Metadata,
  callback: (error: ServiceError | null, reply?: Buffer) => void,
) => void;
interface EchoClient extends Client {
  Echo: Unary;
  Fail: Unary;
  Denied: Unary;
  Count: (request: Buffer) => ClientReadableStream<Buffer>;
  Sum: (callback: (error: ServiceError | null, reply?: Buffer) => void) => ClientWritableStream<Buffer>;
  Chat: () => ClientDuplexStream<Buffer, Buffer>;
}
const EchoClient = makeGenericClientConstructor(definition, 'Echo') as unknown as new (
  address: string,
  credentials: ReturnType<typeof grpcCredentials.createInsecure>,
) => EchoClient;

let env: TestEnv;
let grpcServer: GrpcServer;
const hboneServers: HboneServer[] = [];
const tcpServers: TcpServer[] = [];
const clients: EchoClient[] = [];
const h1servers: HttpServer[] = [];
let h2sessions = 0;

async function credentialsOf(ca: LocalCa, sa: string) {
  const cert = await ca.fetchCertificate(identityOf(sa));
  return { certChainPem: cert.certChainPem, privateKeyPem: cert.privateKeyPem, rootCertsPem: cert.rootCertsPem };
}

/** The destination side: an HBONE server on `<ip>:15008` whose tunnels reach `connect` (the app). */
async function destination(ip: string, sa: string, serve: (stream: Duplex) => void) {
  const creds = await credentialsOf(env.ca, sa);
  const server = createHboneServer({
    credentials: () => creds,
    onConnect: (request) => serve(request.accept().stream),
  });
  await server.listen({ host: ip, port: 15008 });
  hboneServers.push(server);
}

/** The source ztunnel: a local TCP port whose connections become HBONE tunnels to the waypoint. */
async function outbound(authority: string): Promise<string> {
  const server = createTcpServer((socket) => {
    void env.tunnel(authority).then(
      (tunnel) => {
        socket.pipe(tunnel.stream).pipe(socket);
        socket.on('error', () => tunnel.stream.destroy());
        tunnel.stream.on('error', () => socket.destroy());
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tcpServers.push(server);
  const port = (server.address() as { port: number }).port;
  return `127.0.0.1:${port}`;
}

function client(address: string): EchoClient {
  const c = new EchoClient(address, grpcCredentials.createInsecure());
  clients.push(c);
  return c;
}

function unary(c: EchoClient, name: 'Echo' | 'Fail' | 'Denied', body: string) {
  return new Promise<{ reply?: string; error?: ServiceError }>((resolve) =>
    c[name](Buffer.from(body), new Metadata(), (error, reply) =>
      resolve(error ? { error } : { reply: reply!.toString() }),
    ),
  );
}

beforeAll(async () => {
  env = await TestEnv.create('127.7.14');
  grpcServer = new GrpcServer();
  grpcServer.addService(definition, {
    Echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const seen = call.metadata.get('x-test')[0] ?? '';
      callback(null, Buffer.from(`echo:${call.request.toString()}:${String(seen)}`));
    },
    Fail: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
      callback({ code: grpcStatus.FAILED_PRECONDITION, details: 'the server says no' }),
    Denied: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
      callback(null, Buffer.from('reached')),
    Sum: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      let sum = 0;
      call.on('data', (chunk: Buffer) => (sum += Number(chunk.toString())));
      call.on('end', () => callback(null, Buffer.from(String(sum))));
    },
    Chat: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (chunk: Buffer) => call.write(Buffer.from(`re:${chunk.toString()}`)));
      call.on('end', () => call.end());
    },
    Count: (call: ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  // grpc-v1: the gRPC server behind its ztunnel (tunnel → TCP to the app's port).
  await destination('127.7.14.11', 'grpc', (stream) => {
    const socket = netConnect(grpcPort, '127.0.0.1');
    stream.pipe(socket).pipe(stream);
    socket.on('error', () => stream.destroy());
    stream.on('error', () => socket.destroy());
  });
  // h2only-v1: a bare h2c server that says which HTTP version it was spoken to with.
  // `/trailers` echoes the request trailer `x-sent` and answers with a trailer; `/close` closes the
  // session (GOAWAY) after answering.
  const h2app = createH2Server((req, res) => {
    req.resume();
    const session = req.stream.session;
    req.on('end', () => {
      if (req.url === '/trailers') {
        res.addTrailers({ 'x-done': 'yes' });
        return res.end(`trailer x-sent=${String(req.trailers['x-sent'])}`);
      }
      res.end(`h2only saw HTTP/${req.httpVersion} ${req.url}`);
      if (req.url === '/close') session?.close();
    });
  });
  h2app.on('session', () => h2sessions++);
  await destination('127.7.14.13', 'h2only', (stream) => h2app.emit('connection', stream));
  // echo-v1: a node:http server (HTTP/1.1 only) that says which version it was spoken to with.
  const h1app = createHttpServer((req, res) => res.end(`h1only saw HTTP/${req.httpVersion} ${req.url}`));
  h1servers.push(h1app);
  await destination('127.7.14.12', 'echo', (stream) => h1app.emit('connection', stream));
  env.push(
    [
      service({ name: 'grpc', vip: '10.7.14.1', ports: [{ port: 9000, targetPort: 9000, appProtocol: 'GRPC' }] }),
      // A port declared gRPC whose pods speak HTTP/1.1.
      service({ name: 'wrong', vip: '10.7.14.2', ports: [{ port: 9000, targetPort: 8080, appProtocol: 'GRPC' }] }),
      service({ name: 'h2only', vip: '10.7.14.3', ports: [{ port: 80, targetPort: 8080, appProtocol: 'HTTP2' }] }),
      service({ name: 'echo', vip: '10.7.14.4', ports: [{ port: 80, targetPort: 8080, appProtocol: 'HTTP11' }] }),
      workload({ name: 'grpc-v1', ip: '127.7.14.11', sa: 'grpc', services: { grpc: [[9000, 9000]] } }),
      workload({
        name: 'echo-v1',
        ip: '127.7.14.12',
        sa: 'echo',
        services: { wrong: [[9000, 8080]], echo: [[80, 8080]] },
      }),
      workload({ name: 'h2only-v1', ip: '127.7.14.13', sa: 'h2only', services: { h2only: [[80, 8080]] } }),
    ],
    [
      // Routes attached to grpc: only the methods of test.Echo listed here match; anything else is 404 (NR).
      l7('HTTPRoute', 'grpc-methods', {
        parentRefs: [{ group: '', kind: 'Service', name: 'grpc' }],
        rules: [
          {
            matches: ['Echo', 'Fail', 'Count', 'Sum', 'Chat', 'Denied'].map((m) => ({
              path: { type: 'Exact', value: `/test.Echo/${m}` },
            })),
            backendRefs: [{ name: 'grpc', port: 9000 }],
          },
        ],
      }),
      l7('AuthorizationPolicy', 'deny-denied', {
        targetRefs: [gatewayTarget],
        action: 'DENY',
        rules: [{ to: [{ operation: { paths: ['/test.Echo/Denied'] } }] }],
      }),
    ],
  );
  await env.startWaypoint();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await new Promise<void>((resolve) => grpcServer?.tryShutdown(() => resolve()));
  for (const server of [...tcpServers, ...h1servers]) server.close();
  await Promise.all(hboneServers.map((s) => s.close()));
  await env?.close();
});

describe('gRPC through the waypoint (HTTP/2 upstream on a port declared GRPC)', () => {
  it('carries a unary call and its metadata, and reports it as grpc', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const metadata = new Metadata();
    metadata.set('x-test', 'meta');
    const reply = await new Promise<string>((resolve, reject) =>
      c.Echo(Buffer.from('hello'), metadata, (error, value) => (error ? reject(error) : resolve(value!.toString()))),
    );
    expect(reply).toBe('echo:hello:meta');
    const line = env.accessLogs().find((l) => l['path'] === '/test.Echo/Echo');
    expect(line).toMatchObject({ response_code: 200, upstream_host: 'envoy://connect_originate/127.7.14.11:9000' });
    expect(await env.metrics()).toMatch(/istio_requests_total\{[^}]*request_protocol="grpc"[^}]*response_code="200"/);
  });

  it('brings a non-OK grpc-status and its grpc-message back to the client', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const { error } = await unary(c, 'Fail', 'x');
    expect(error?.code).toBe(grpcStatus.FAILED_PRECONDITION);
    expect(error?.details).toBe('the server says no');
    const line = env.accessLogs().find((l) => l['path'] === '/test.Echo/Fail');
    expect(line).toMatchObject({ response_code: 200, grpc_status: String(grpcStatus.FAILED_PRECONDITION) });
  });

  it('streams server messages and the final status trailers', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const call = c.Count(Buffer.from('5'));
    const got: string[] = [];
    call.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    const status = await new Promise<{ code: number }>((resolve) => call.on('status', resolve));
    expect(got).toEqual(['1', '2', '3', '4', '5']);
    expect(status.code).toBe(grpcStatus.OK);
  });

  it('carries client streaming and bidirectional streaming', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const sum = await new Promise<string>((resolve, reject) => {
      const call = c.Sum((error, reply) => (error ? reject(error) : resolve(reply!.toString())));
      for (const n of [1, 2, 3, 4]) call.write(Buffer.from(String(n)));
      call.end();
    });
    expect(sum).toBe('10');
    const chat = c.Chat();
    const got: string[] = [];
    chat.on('data', (chunk: Buffer) => {
      got.push(chunk.toString());
      // Each answer arrives before the next message is sent: both directions are live at once.
      if (got.length < 3) chat.write(Buffer.from(`m${got.length + 1}`));
      else chat.end();
    });
    chat.write(Buffer.from('m1'));
    const status = await new Promise<{ code: number }>((resolve) => chat.on('status', resolve));
    expect(got).toEqual(['re:m1', 're:m2', 're:m3']);
    expect(status.code).toBe(grpcStatus.OK);
  });

  it('multiplexes calls over one pooled upstream session', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(c, 'Echo', String(i))));
    expect(replies.map((r) => r.reply)).toEqual(Array.from({ length: 20 }, (_, i) => `echo:${i}:`));
  });

  it('answers a denied call with grpc-status 7 (PERMISSION_DENIED), not an HTTP 403', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const { error, reply } = await unary(c, 'Denied', 'x');
    expect(reply).toBeUndefined();
    expect(error?.code).toBe(grpcStatus.PERMISSION_DENIED);
    expect(error?.details).toBe('RBAC: access denied');
    expect(await env.metrics()).toMatch(
      /istio_requests_total\{[^}]*request_protocol="grpc"[^}]*response_code="200"[^}]*grpc_response_status="7"/,
    );
  });

  it('an HTTP/1.1 server on a port declared grpc: UNAVAILABLE to the client, 502 UPE with the reason logged', async () => {
    const c = client(await outbound('10.7.14.2:9000'));
    const { error } = await unary(c, 'Echo', 'x');
    expect(error?.code).toBe(grpcStatus.UNAVAILABLE);
    expect(error?.details).toBe('upstream sent an invalid HTTP response');
    const line = await env.eventually(
      () => env.accessLogs().find((l) => l['downstream_local_address'] === '10.7.14.2:9000'),
      (l) => l !== undefined,
    );
    // As Envoy reports a gRPC local reply: HTTP 200 on the wire, the gRPC status beside it.
    expect(line).toMatchObject({ response_code: 200, grpc_status: '14', response_flags: 'UPE' });
    expect(String(line?.['reason'])).toContain('did not answer with HTTP/2');
  });

  it('answers a call no route matches with grpc-status 12 (UNIMPLEMENTED)', async () => {
    const c = client(await outbound('10.7.14.1:9000'));
    const Unrouted = makeGenericClientConstructor({ Nope: method('Nope') }, 'Unrouted') as unknown as new (
      address: string,
      credentials: ReturnType<typeof grpcCredentials.createInsecure>,
    ) => Client & { Nope: Unary };
    const other = new Unrouted(
      c
        .getChannel()
        .getTarget()
        .replace(/^ipv4:|^dns:/, ''),
      grpcCredentials.createInsecure(),
    );
    clients.push(other as unknown as EchoClient);
    const error = await new Promise<ServiceError | null>((resolve) =>
      other.Nope(Buffer.from('x'), new Metadata(), (e) => resolve(e)),
    );
    expect(error?.code).toBe(grpcStatus.UNIMPLEMENTED);
    const line = env.accessLogs().find((l) => l['path'] === '/test.Echo/Nope');
    expect(line).toMatchObject({ response_flags: 'NR' });
  });
});

it.skipIf(!hasGrpcio)(
  `Python grpcio as the client: unary reply, a server status with its message, a denied call${hasGrpcio ? '' : ' (skipped: needs python3-grpcio)'}`,
  async () => {
    const address = await outbound('10.7.14.1:9000');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/python3', ['-c', PYTHON_CLIENT, address], { timeout: 20_000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
    const results = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    expect(results).toEqual([
      { reply: 'echo:py:' },
      { code: 'FAILED_PRECONDITION', details: 'the server says no' },
      { code: 'PERMISSION_DENIED', details: 'RBAC: access denied' },
    ]);
  },
);

describe('upstream protocol choice', () => {
  it('speaks HTTP/2 upstream on a port declared HTTP2, to an HTTP/1.1 client', async () => {
    const reply = await env.request({ authority: '10.7.14.3:80', path: '/v' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('h2only saw HTTP/2.0 /v');
  });

  it('carries request and response trailers between an h2c client and an HTTP/2 upstream', async () => {
    const tunnel = await env.tunnel('10.7.14.3:80');
    const session = h2connect('http://h2only', { createConnection: () => tunnel.stream as never });
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/trailers' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-sent': 'abc' }));
      stream.end('body');
      let body = '';
      stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
      const [trailers] = await Promise.all([
        new Promise<Record<string, unknown>>((resolve) => stream.once('trailers', resolve)),
        new Promise((resolve) => stream.once('end', resolve)),
      ]);
      expect(body).toBe('trailer x-sent=abc');
      expect(trailers['x-done']).toBe('yes');
    } finally {
      session.destroy();
      tunnel.stream.destroy();
    }
  });

  it('replaces an upstream session that sent GOAWAY, and reuses a live one', async () => {
    const before = h2sessions;
    expect((await env.request({ authority: '10.7.14.3:80', path: '/a' })).status).toBe(200);
    expect((await env.request({ authority: '10.7.14.3:80', path: '/b' })).status).toBe(200);
    expect(h2sessions - before).toBeLessThanOrEqual(1);
    expect((await env.request({ authority: '10.7.14.3:80', path: '/close' })).body).toBe('h2only saw HTTP/2.0 /close');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const afterClose = h2sessions;
    const next = await env.request({ authority: '10.7.14.3:80', path: '/after' });
    expect(next.body).toBe('h2only saw HTTP/2.0 /after');
    expect(h2sessions).toBe(afterClose + 1);
  });

  it('keeps HTTP/1.1 upstream for an HTTP/1.1 client on a plain http port (an HTTP/1.1-only server)', async () => {
    const reply = await env.request({ authority: '10.7.14.4:80', path: '/plain' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('h1only saw HTTP/1.1 /plain');
  });
});
