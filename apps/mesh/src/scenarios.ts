// The behaviours the example mesh demonstrates, each a probe that says what it saw. `npm start -- --once`
// runs each once and prints PASS/FAIL; the live view runs them in a loop and counts.
import type { LocalMesh } from './local-mesh.ts';
import type { MeshPod } from './mesh-file.ts';
import type { HttpResult } from './pod-client.ts';

/** Recent JSON log lines of every process, searchable by the probes. */
export class LogBook {
  readonly #lines: { role: string; line: Record<string, unknown> }[] = [];

  add(role: string, line: Record<string, unknown>): void {
    this.#lines.push({ role, line });
    if (this.#lines.length > 20_000) this.#lines.splice(0, 5_000);
  }

  /** Wait up to `timeoutMs` for a line of a role (prefix) matching the predicate, seen after `since`. */
  async find(
    role: string,
    match: (line: Record<string, unknown>) => boolean,
    since: number,
    timeoutMs = 3000,
  ): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#lines.find(
        (entry, index) => index >= since && entry.role.startsWith(role) && match(entry.line),
      );
      if (found || Date.now() > deadline) return found?.line;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get mark(): number {
    return this.#lines.length;
  }
}

export interface Outcome {
  ok: boolean;
  detail: string;
}

export interface Scenario {
  key: string;
  title: string;
  run(mesh: LocalMesh, logs: LogBook): Promise<Outcome>;
}

function pod(mesh: LocalMesh, name: string): MeshPod | undefined {
  return mesh.mesh.pods.find((candidate) => candidate.name === name);
}

async function attempt(run: () => Promise<HttpResult>): Promise<HttpResult | Error> {
  try {
    return await run();
  } catch (error) {
    return error as Error;
  }
}

const servedBy = (result: HttpResult): string => {
  try {
    return (JSON.parse(result.body) as { pod: string }).pod;
  } catch {
    return '?';
  }
};

const describe = (result: HttpResult | Error): string =>
  result instanceof Error ? result.message : `HTTP ${result.status}`;

const missing = (what: string): Outcome => ({ ok: false, detail: `the mesh file has no ${what}` });

/** The destination ztunnel's "connection complete" inbound access-log line that `matches`, after `mark`. */
const inboundLog = (
  logs: LogBook,
  node: string,
  mark: number,
  matches: (entry: Record<string, unknown>) => boolean,
): ReturnType<LogBook['find']> =>
  logs.find(
    `ztunnel ${node}`,
    (entry) => entry['message'] === 'connection complete' && entry['direction'] === 'inbound' && matches(entry),
    mark,
  );

export const scenarios: Scenario[] = [
  {
    key: 'mesh-to-mesh',
    title: 'mesh → mesh over HBONE with both SPIFFE identities (client → echo-v2, across nodes)',
    async run(mesh, logs) {
      const client = pod(mesh, 'client');
      const server = pod(mesh, 'echo-v2');
      if (!client || !server) return missing('client and echo-v2 pods');
      const mark = logs.mark;
      const result = await attempt(() => mesh.client.get(client, server.ip, server.ports[0]!.containerPort, '/'));
      if (result instanceof Error || result.status !== 200) return { ok: false, detail: describe(result) };
      const line = await inboundLog(logs, server.node, mark, (entry) => entry['dst.workload'] === server.name);
      if (!line) return { ok: false, detail: `HTTP 200 but no inbound access log on ${server.node}` };
      return {
        ok: Boolean(line['src.identity'] && line['dst.identity']),
        detail: `${String(line['src.identity'])} → ${String(line['dst.identity'])} via ${String(line['dst.addr'])}`,
      };
    },
  },
  {
    key: 'plaintext-in',
    title: 'out-of-mesh client → mesh workload as plaintext (outside-client → echo-v1:15006)',
    async run(mesh, logs) {
      const client = pod(mesh, 'outside-client');
      const server = pod(mesh, 'echo-v1');
      if (!client || !server) return missing('outside-client and echo-v1 pods');
      const mark = logs.mark;
      // Loopback mode has no capture: the out-of-mesh client dials the pod's plaintext port on its ztunnel.
      // Netns mode: it dials the app's own port and the pod's in-pod rules redirect it to ztunnel's 15006.
      const port = mesh.mode === 'netns' ? server.ports[0]!.containerPort : 15006;
      const result = await attempt(() => mesh.client.get(client, server.ip, port, '/'));
      if (result instanceof Error || result.status !== 200) return { ok: false, detail: describe(result) };
      const line = await inboundLog(logs, server.node, mark, (entry) =>
        String(entry['src.addr']).startsWith(`${client.ip}:`),
      );
      return {
        ok: !!line && !line['src.identity'],
        detail: line
          ? `plaintext ${client.ip} → ${String(line['dst.addr'])}, no identity`
          : 'HTTP 200 but no access log',
      };
    },
  },
  {
    key: 'l4-deny',
    title: 'L4 DENY refuses blocked-client (→ echo-v1 Service, enforced by the destination ztunnel)',
    async run(mesh, logs) {
      const client = pod(mesh, 'blocked-client');
      const service = mesh.mesh.services.find((candidate) => candidate.name === 'echo-v1');
      if (!client || !service) return missing('blocked-client pod and echo-v1 Service');
      const mark = logs.mark;
      const result = await attempt(() => mesh.client.get(client, service.vip, service.ports[0]!.port, '/'));
      if (!(result instanceof Error)) return { ok: false, detail: `expected a refusal, got HTTP ${result.status}` };
      const line = await logs.find('ztunnel', (entry) => String(entry['error']).includes('explicitly denied by'), mark);
      return { ok: !!line, detail: line ? String(line['error']) : `refused (${result.message}) but no policy log` };
    },
  },
  {
    key: 'dns',
    title: 'DNS: client resolves echo by name through ztunnel, then GETs it',
    async run(mesh) {
      const client = pod(mesh, 'client');
      const service = mesh.mesh.services.find((candidate) => candidate.name === 'echo');
      if (!client || !service) return missing('client pod and echo Service');
      const full = `${service.name}.${service.namespace}.svc.cluster.local`;
      const answers: string[] = [];
      let server = '';
      for (const name of [service.name, full]) {
        let addresses: string[];
        try {
          const answer = await mesh.client.resolve(client, name);
          ({ addresses, server } = answer);
        } catch (error) {
          return { ok: false, detail: (error as Error).message };
        }
        answers.push(`${name} → ${addresses.join(',') || '(none)'}`);
        if (addresses.length !== 1 || addresses[0] !== service.vip)
          return { ok: false, detail: `${answers.join(', ')}; expected ${service.vip}` };
      }
      // the app connects to what it resolved, as any client would
      const result = await attempt(() => mesh.client.get(client, service.vip, service.ports[0]!.port, '/'));
      const via = mesh.mode === 'netns' ? `${server}, redirected to the pod's 15053` : server;
      if (result instanceof Error || result.status !== 200)
        return { ok: false, detail: `${answers.join(', ')} (${via}); then ${describe(result)}` };
      return { ok: true, detail: `${answers.join(', ')} (${via}); GET → HTTP 200 from ${servedBy(result)}` };
    },
  },
  {
    key: 'waypoint-route',
    title: 'waypoint: HTTPRoute sends echo traffic to echo-v1 (client → echo VIP)',
    async run(mesh) {
      const client = pod(mesh, 'client');
      const service = mesh.mesh.services.find((candidate) => candidate.name === 'echo');
      if (!client || !service) return missing('client pod and echo Service');
      const seen = new Map<string, number>();
      for (let index = 0; index < 6; index++) {
        const result = await attempt(() => mesh.client.get(client, service.vip, service.ports[0]!.port, '/'));
        if (result instanceof Error || result.status !== 200) return { ok: false, detail: describe(result) };
        seen.set(servedBy(result), (seen.get(servedBy(result)) ?? 0) + 1);
      }
      const summary = [...seen].map(([name, count]) => `${name}×${count}`).join(', ');
      return { ok: seen.size === 1 && seen.has('echo-v1'), detail: `served by ${summary}` };
    },
  },
  {
    key: 'jwt',
    title: 'JWT on /secure through the waypoint: none → 403, invalid → 401, valid → 200',
    async run(mesh) {
      const client = pod(mesh, 'client');
      const protectedPath = mesh.mesh.protectedPaths[0];
      const service = mesh.mesh.services.find((candidate) => candidate.name === protectedPath?.service);
      const issuer = mesh.issuers[0];
      if (!client || !service || !protectedPath || !issuer) return missing('JWT-protected service with an issuer');
      const call = (headers: Record<string, string>) =>
        attempt(() => mesh.client.get(client, service.vip, service.ports[0]!.port, protectedPath.path, headers));
      const none = await call({});
      const invalid = await call({ authorization: 'Bearer not.a.valid-token' });
      const valid = await call({ authorization: `Bearer ${await issuer.mint('demo-user')}` });
      const status = (result: HttpResult | Error) => (result instanceof Error ? 0 : result.status);
      return {
        ok: status(none) === 403 && status(invalid) === 401 && status(valid) === 200,
        detail: `no token ${describe(none)}, invalid ${describe(invalid)}, valid ${describe(valid)}`,
      };
    },
  },
];
