// How a sample client in a pod makes one HTTP request, in each mode. Loopback: from the pod's loopback IP,
// through its node's ztunnel SOCKS5 port when the pod is in the mesh (socks-http.ts). Netns: a plain Node HTTP
// client (pod-http-client.ts) run inside the pod's network namespace, no proxy settings at all — the in-pod
// iptables rules hand the connection to ztunnel when the pod is captured.
// DNS the same way: loopback — node:dns's Resolver from the pod's IP to its node's ztunnel DNS proxy
// (ISTIO_META_DNS_PROXY_ADDR = <node ip>:15053, which tells the pod by the source address); netns — a plain
// Resolver (pod-dns-client.ts) run in the pod asking a cluster-DNS address on port 53, redirected to the pod's
// own ztunnel DNS proxy on 15053 by the in-pod rules.
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { exec, CommandError } from '@ambient-ts/netns-topology';
import type { MeshPod } from './mesh-file.ts';
import { httpGet, type HttpResult } from './socks-http.ts';

export type { HttpResult };

export interface PodClient {
  /** One HTTP/1.1 GET from `from` to host:port; rejects when the connection fails, is reset or closed. */
  get(from: MeshPod, host: string, port: number, path: string, headers?: Record<string, string>): Promise<HttpResult>;
  /** The A records of `name` as `from` resolves it (through its ztunnel's DNS proxy); rejects on a DNS error. */
  resolve(from: MeshPod, name: string): Promise<DnsAnswer>;
}

export interface DnsAnswer {
  addresses: string[];
  /** Which server the client asked (netns: the cluster-DNS address its rules redirect). */
  server: string;
}

/** The cluster-DNS address netns pods ask (kube-dns's usual VIP): any non-loopback address is redirected. */
export const CLUSTER_DNS = '10.96.0.10';

export function socksClient(
  socksFor: (pod: MeshPod) => { host: string; port: number } | undefined,
  dnsFor: (pod: MeshPod) => { host: string; port: number } | undefined = () => undefined,
): PodClient {
  return {
    async resolve(from, name) {
      const dns = dnsFor(from);
      if (!dns) throw new Error(`pod ${from.namespace}/${from.name} has no ztunnel DNS proxy (not in the mesh)`);
      const resolver = new Resolver({ timeout: 3000, tries: 1 });
      resolver.setServers([`${dns.host}:${dns.port}`]);
      resolver.setLocalAddress(from.ip); // the ztunnel knows the pod by the query's source address
      return { addresses: await resolver.resolve4(name), server: `${dns.host}:${dns.port}` };
    },
    get: (from, host, port, path, headers) => {
      const socks = socksFor(from);
      return httpGet({ sourceIp: from.ip, ...(socks ? { socks } : {}) }, host, port, path, headers);
    },
  };
}

const podHttpClient = join(import.meta.dirname, 'pod-http-client.ts');
const podDnsClient = join(import.meta.dirname, 'pod-dns-client.ts');

async function runInPod(namespace: string, argv: string[], timeoutMs: number): Promise<string> {
  try {
    return (await exec(namespace, argv, { timeoutMs })).stdout;
  } catch (error) {
    const stderr = error instanceof CommandError ? error.stderr.trim() : (error as Error).message;
    throw new Error(`the client in ${namespace} could not run: ${stderr}`, { cause: error });
  }
}

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
      const stdout = await runInPod(namespace, argv, timeoutMs + 5000);
      const result = JSON.parse(stdout) as Partial<HttpResult> & { error?: string };
      if (result.error !== undefined) throw new Error(`connection reset or closed: ${result.error}`);
      return { status: result.status ?? 0, body: result.body ?? '', headers: result.headers ?? {} };
    },
    async resolve(from, name) {
      const namespace = namespaceOf(from);
      if (!namespace) throw new Error(`pod ${from.namespace}/${from.name} has no network namespace (yet)`);
      const argv = [process.execPath, podDnsClient, name, CLUSTER_DNS, '3000'];
      const result = JSON.parse(await runInPod(namespace, argv, 8000)) as { addresses?: string[]; error?: string };
      if (result.error !== undefined) throw new Error(`resolving ${name}: ${result.error}`);
      return { addresses: result.addresses ?? [], server: `${CLUSTER_DNS}:53` };
    },
  };
}
