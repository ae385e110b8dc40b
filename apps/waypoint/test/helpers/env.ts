// The direct test tier: a real waypoint in-process against discovery's xDS server, a shared LocalCa,
// fake destination ztunnels (HBONE servers on <ip>:15008 in front of echo apps) and an HBONE client
// playing the source ztunnel. Every address is a loopback IP of the calling test file's own /24.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import { PassThrough, type Duplex } from 'node:stream';
import { LocalCa } from '@ambient-ts/certs';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, type workload } from '@ambient-ts/istio-api';
import { startXdsServer, type RunningXdsServer } from '@ambient-ts/xds';
import {
  createHboneServer,
  HbonePool,
  type HboneServer,
  type HboneTunnel,
  type TlsCredentials,
} from '@ambient-ts/hbone';
import { parseConfig } from '../../src/config.ts';
import { L7_TYPE_URL } from '../../src/l7/l7-handler.ts';
import { Waypoint } from '../../src/waypoint.ts';
import { addressName, identityOf } from './resources.ts';

export interface Backend {
  readonly name: string;
  readonly ip: string;
  /** CONNECT authorities and peer identities seen by this fake destination ztunnel. */
  readonly connects: { authority: string; peer: string }[];
  readonly server: HboneServer;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The echo backend's answer (its name and what it received), when it answered. */
  echo?: { name: string; method: string; path: string; headers: Record<string, string>; body: string };
}

export interface RequestOptions {
  authority: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Client identity (service account in `default`); default `client`. */
  as?: string;
  /** Another waypoint to send to (default: this environment's). */
  waypointIp?: string;
}

/** `n` bytes of a fixed pseudo-random pattern (every byte value occurs; not a repeated text). */
export function patternBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function credentialsFor(ca: LocalCa, identity: string): Promise<TlsCredentials> {
  const certificate = await ca.fetchCertificate(identity);
  return {
    certChainPem: certificate.certChainPem,
    privateKeyPem: certificate.privateKeyPem,
    rootCertsPem: certificate.rootCertsPem,
  };
}

export class TestEnv {
  readonly base: string;
  readonly ca: LocalCa;
  readonly xds: RunningXdsServer;
  readonly nacks: string[] = [];
  waypoint!: Waypoint;
  readonly backends: Backend[] = [];
  readonly #pool = new HbonePool();
  readonly #servers: Server[] = [];
  readonly #credentials = new Map<string, TlsCredentials>();
  #logText = '';

  private constructor(base: string, ca: LocalCa, xds: RunningXdsServer) {
    this.base = base;
    this.ca = ca;
    this.xds = xds;
    xds.xds.onEvent((event) => {
      if (event.kind === 'nack') this.nacks.push(event.message);
    });
  }

  /** `base` is this file's /24, e.g. `127.7.1`: the waypoint is `<base>.1`, clients dial from `<base>.200`. */
  static async create(base: string): Promise<TestEnv> {
    const ca = await LocalCa.create();
    const xds = await startXdsServer();
    // Every type gets a first (possibly empty) answer so the waypoint can report ready.
    xds.xds.update(
      { typeUrl: ADDRESS_TYPE_URL, upsert: [] },
      { typeUrl: AUTHORIZATION_TYPE_URL, upsert: [] },
      { typeUrl: L7_TYPE_URL, upsert: [] },
    );
    return new TestEnv(base, ca, xds);
  }

  get waypointIp(): string {
    return `${this.base}.1`;
  }

  /**
   * `failAccessLog`: the log sink throws on every access-log line ("request complete"), as a broken
   * metrics/log destination would; other lines are kept.
   */
  async startWaypoint(env: Record<string, string> = {}, options: { failAccessLog?: boolean } = {}): Promise<Waypoint> {
    const config = parseConfig({
      INSTANCE_IP: this.waypointIp,
      POD_NAMESPACE: 'default',
      GATEWAY_NAME: 'waypoint',
      XDS_ADDRESS: this.xds.address,
      FAKE_CA: 'true',
      AUTH_TOKEN: 'test-token',
      ADMIN_ADDR: '127.0.0.1:0',
      STATS_ADDR: '127.0.0.1:0',
      READINESS_ADDR: '127.0.0.1:0',
      LOG_FORMAT: 'json',
      RUST_LOG: 'info',
      ...env,
    });
    const out = new PassThrough();
    out.on('data', (chunk: Buffer) => (this.#logText += chunk.toString()));
    if (options.failAccessLog) {
      const write = out.write.bind(out) as (chunk: unknown) => boolean;
      out.write = ((chunk: unknown) => {
        if (String(chunk).includes('"message":"request complete"')) throw new Error('the access-log sink is broken');
        return write(chunk);
      }) as typeof out.write;
    }
    this.waypoint = await Waypoint.start(config, { caClient: this.ca, logDestination: out });
    await this.eventually(
      async () => (await this.ready()).status,
      (status) => status === 200,
    );
    return this.waypoint;
  }

  push(
    addresses: workload.Address[] = [],
    objects: { name: string; json: unknown }[] = [],
    remove: string[] = [],
  ): void {
    const updates = [];
    if (addresses.length > 0)
      updates.push({ typeUrl: ADDRESS_TYPE_URL, upsert: addresses.map((a) => ({ name: addressName(a), json: a })) });
    if (objects.length > 0 || remove.length > 0) updates.push({ typeUrl: L7_TYPE_URL, upsert: objects, remove });
    this.xds.xds.update(...updates);
  }

  /** Push and wait until the waypoint applied it (its L7 version moves on, or its store grew). */
  async pushAndWait(
    addresses: workload.Address[] = [],
    objects: { name: string; json: unknown }[] = [],
    remove: string[] = [],
  ): Promise<void> {
    const { l7, store } = this.waypoint.state;
    const before = { l7: l7.version, addresses: store.workloadCount + store.serviceCount };
    this.push(addresses, objects, remove);
    await this.eventually(
      () => ({ l7: l7.version, addresses: store.workloadCount + store.serviceCount }),
      (now) =>
        (objects.length + remove.length === 0 || now.l7 > before.l7) &&
        (addresses.length === 0 || now.addresses > before.addresses),
    );
  }

  async #credentialsFor(sa: string): Promise<TlsCredentials> {
    let found = this.#credentials.get(sa);
    if (!found) this.#credentials.set(sa, (found = await credentialsFor(this.ca, identityOf(sa))));
    return found;
  }

  /**
   * A fake destination: an HBONE server on `<ip>:15008` (presenting `sa`) in front of an app that echoes
   * HTTP requests as JSON with its name, or, on `tcpPorts`, echoes bytes prefixed with its name.
   */
  async backend(
    name: string,
    ip: string,
    options: {
      sa?: string;
      tcpPorts?: number[];
      /** node:http 'upgrade' listener of the app (WebSocket tests). */
      onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
    } = {},
  ): Promise<Backend> {
    const app = createHttpServer((req, res) => {
      // `/sha256` answers with the length and SHA-256 of the raw request body; `/bytes/<n>` with n
      // deterministic bytes (data-path integrity tests).
      if (req.url?.startsWith('/sha256')) {
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
        });
        req.on('end', () => res.end(JSON.stringify({ name, bytes, sha256: hash.digest('hex') })));
        return;
      }
      const size = /^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1];
      if (size !== undefined) {
        req.resume();
        res.setHeader('content-type', 'application/octet-stream');
        res.end(patternBytes(Number(size)));
        return;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', async () => {
        // `/slow…` answers after a pause (drain tests need a request in flight).
        if (req.url?.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 300));
        // Served over HTTP/2 too (h2c upstreams): :authority reads as host, pseudo headers are left out.
        const headers = Object.fromEntries(
          Object.entries(req.headers)
            .filter(([k]) => !k.startsWith(':'))
            .map(([k, v]) => [k, String(v)]),
        );
        if (req.headers[':authority'] !== undefined) headers['host'] ??= String(req.headers[':authority']);
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-backend', name);
        res.end(JSON.stringify({ name, method: req.method, path: req.url, headers, body }));
      });
    });
    if (options.onUpgrade) app.on('upgrade', options.onUpgrade);
    this.#servers.push(app);
    // The same app over h2c prior knowledge, chosen by the first bytes (the waypoint keeps an h2c
    // client's protocol upstream on undeclared and plain http ports).
    const h2app = createH2Server((req, res) => app.emit('request', req, res));
    const serve = (stream: Duplex): void => {
      const onReadable = (): void => {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null) return;
        stream.off('readable', onReadable);
        stream.unshift(chunk);
        if (chunk.subarray(0, 3).toString('latin1') === 'PRI') h2app.emit('connection', stream);
        else app.emit('connection', stream);
      };
      stream.on('readable', onReadable);
    };
    const credentials = await this.#credentialsFor(options.sa ?? name);
    const connects: Backend['connects'] = [];
    const server = createHboneServer({
      credentials: () => credentials,
      onConnect: (request) => {
        connects.push({ authority: request.rawAuthority, peer: request.peerIdentity });
        const tunnel = request.accept();
        if (options.tcpPorts?.includes(request.authority.port)) {
          tunnel.stream.on('data', (chunk: Buffer) => tunnel.stream.write(`${name}:${chunk.toString()}`));
          tunnel.stream.on('end', () => tunnel.stream.end());
        } else serve(tunnel.stream);
      },
    });
    await server.listen({ host: ip, port: 15008 });
    const backend = { name, ip, connects, server };
    this.backends.push(backend);
    return backend;
  }

  /** One HTTP/1.1 request through a fresh HBONE tunnel to the waypoint (as the client's ztunnel would). */
  async request(options: RequestOptions): Promise<Reply> {
    const tunnel = await this.#pool.connect({
      address: { host: options.waypointIp ?? this.waypointIp, port: 15008 },
      authority: options.authority,
      credentials: await this.#credentialsFor(options.as ?? 'client'),
      sourceIdentity: identityOf(options.as ?? 'client'),
      expectedIdentities: [identityOf('waypoint')],
      sourceIp: `${this.base}.200`,
    });
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({
          createConnection: () => tunnel.stream as never,
          method: options.method ?? 'GET',
          path: options.path ?? '/',
          headers: { host: 'echo', ...options.headers },
        });
        req.on('response', resolve);
        req.on('error', reject);
        req.end(options.body);
      });
      let body = '';
      for await (const chunk of response) body += (chunk as Buffer).toString();
      const reply: Reply = { status: response.statusCode ?? 0, headers: response.headers, body };
      if (response.headers['content-type'] === 'application/json') reply.echo = JSON.parse(body) as Reply['echo'];
      return reply;
    } finally {
      tunnel.stream.destroy();
    }
  }

  /** A raw HBONE tunnel to the waypoint (the client ztunnel's side). */
  async tunnel(authority: string, as = 'client'): Promise<HboneTunnel> {
    return this.#pool.connect({
      address: { host: this.waypointIp, port: 15008 },
      authority,
      credentials: await this.#credentialsFor(as),
      sourceIdentity: identityOf(as),
      expectedIdentities: [identityOf('waypoint')],
    });
  }

  /** Raw bytes through a tunnel: write, half-close, collect until the waypoint ends (or resets) the stream. */
  async tcp(authority: string, payload: string, as = 'client'): Promise<{ data: string; error?: string }> {
    const tunnel = await this.tunnel(authority, as);
    let data = '';
    tunnel.stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
    tunnel.stream.end(payload);
    const [error] = await Promise.race([
      once(tunnel.stream, 'end').then(() => [undefined]),
      once(tunnel.stream, 'error'),
    ]);
    tunnel.stream.destroy();
    return { data, ...(error ? { error: (error as Error).message } : {}) };
  }

  logs(): Record<string, unknown>[] {
    this.waypoint.logging.flush();
    return this.#logText
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  accessLogs(): Record<string, unknown>[] {
    return this.logs().filter(
      (line) => line['message'] === 'request complete' || line['message'] === 'connection complete',
    );
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.waypoint.ports.stats}/stats/prometheus`)).text();
  }

  admin(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.waypoint.ports.admin}${path}`, init);
  }

  ready(): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.waypoint.ports.readiness}/healthz/ready`);
  }

  async eventually<T>(probe: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let value = await probe();
    while (!check(value) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      value = await probe();
    }
    return value;
  }

  async close(): Promise<void> {
    await this.waypoint?.drain(100);
    await this.#pool.close();
    await Promise.all(this.backends.map((b) => b.server.close()));
    for (const server of this.#servers) server.close();
    await this.xds.close();
  }
}
