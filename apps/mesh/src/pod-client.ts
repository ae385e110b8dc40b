// How a sample client in a pod makes one HTTP request, in each mode. Loopback: from the pod's loopback IP,
// through its node's ztunnel SOCKS5 port when the pod is in the mesh (socks-http.ts). Netns: an unmodified
// `curl` run inside the pod's network namespace, no proxy settings at all — the in-pod iptables rules hand
// the connection to ztunnel when the pod is captured.
import { exec, CommandError } from '@ambient-ts/netns-topology';
import type { MeshPod } from './mesh-file.ts';
import { httpGet, type HttpResult } from './socks-http.ts';

export type { HttpResult };

export interface PodClient {
  /** One HTTP/1.1 GET from `from` to host:port; rejects when the connection fails, is reset or closed. */
  get(from: MeshPod, host: string, port: number, path: string, headers?: Record<string, string>): Promise<HttpResult>;
}

export function socksClient(socksFor: (pod: MeshPod) => { host: string; port: number } | undefined): PodClient {
  return {
    get: (from, host, port, path, headers) => {
      const socks = socksFor(from);
      return httpGet({ sourceIp: from.ip, ...(socks ? { socks } : {}) }, host, port, path, headers);
    },
  };
}

export function curlClient(namespaceOf: (pod: MeshPod) => string | undefined, timeoutMs = 5000): PodClient {
  return {
    async get(from, host, port, path, headers = {}) {
      const namespace = namespaceOf(from);
      if (!namespace) throw new Error(`pod ${from.namespace}/${from.name} has no network namespace (yet)`);
      const argv = ['curl', '--silent', '--show-error', '--include', '--max-time', String(timeoutMs / 1000)];
      for (const [name, value] of Object.entries({ connection: 'close', ...headers }))
        argv.push('-H', `${name}: ${value}`);
      argv.push(`http://${host}:${port}${path}`);
      let stdout: string;
      try {
        ({ stdout } = await exec(namespace, argv, { timeoutMs: timeoutMs + 2000 }));
      } catch (error) {
        const stderr = error instanceof CommandError ? error.stderr.trim() : (error as Error).message;
        throw new Error(`connection reset or closed: ${stderr}`, { cause: error });
      }
      return parseResponse(stdout);
    },
  };
}

/** curl --include output: status line and headers, a blank line, the body. */
export function parseResponse(text: string): HttpResult {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, body, headers };
}
