// How a sample client in a pod makes one HTTP request, in each mode. Loopback: from the pod's loopback IP,
// through its node's ztunnel SOCKS5 port when the pod is in the mesh (socks-http.ts). Netns: a plain Node HTTP
// client (pod-http-client.ts) run inside the pod's network namespace, no proxy settings at all — the in-pod
// iptables rules hand the connection to ztunnel when the pod is captured.
import { join } from 'node:path';
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

const podHttpClient = join(import.meta.dirname, 'pod-http-client.ts');

/** Netns mode: each request is `pod-http-client.ts` (plain node:http) run inside the client pod's namespace. */
export function inPodClient(namespaceOf: (pod: MeshPod) => string | undefined, timeoutMs = 5000): PodClient {
  return {
    async get(from, host, port, path, headers = {}) {
      const namespace = namespaceOf(from);
      if (!namespace) throw new Error(`pod ${from.namespace}/${from.name} has no network namespace (yet)`);
      const argv = [
        process.execPath,
        podHttpClient,
        `http://${host}:${port}${path}`,
        JSON.stringify(headers),
        String(timeoutMs),
      ];
      let stdout: string;
      try {
        ({ stdout } = await exec(namespace, argv, { timeoutMs: timeoutMs + 5000 }));
      } catch (error) {
        const stderr = error instanceof CommandError ? error.stderr.trim() : (error as Error).message;
        throw new Error(`the client in ${namespace} could not run: ${stderr}`, { cause: error });
      }
      const result = JSON.parse(stdout) as Partial<HttpResult> & { error?: string };
      if (result.error !== undefined) throw new Error(`connection reset or closed: ${result.error}`);
      return { status: result.status ?? 0, body: result.body ?? '', headers: result.headers ?? {} };
    },
  };
}
