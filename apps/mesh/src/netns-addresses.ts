// The one home of netns mode's address mapping. The mesh YAML is written for loopback mode (pods 127.0.1.x,
// VIPs 127.10.0.x, a JWKS on 127.0.0.1), which cannot work inside pod namespaces: there 127/8 is each
// namespace's own loopback. The runner rewrites each file into a netns variant in the state dir, which the
// control plane serves and the node agents' pod lists come from:
//   pod IP 127.x.y.z on the node with topology id N  → 10.0.N.(z+1)   (10.0.N.1 is the node's gateway)
//   Service / waypoint VIP 127.x.y.z                 → 10.96.y.z
//   a JWKS URI on 127.0.0.1 / localhost              → the host link's address (172.172.0.254), same port
// Every scalar equal to a mapped pod IP or VIP (also as `/32`) is replaced wherever it appears (policies'
// ipBlocks too), and only the scalar's own characters change, so every line keeps its number: the control
// plane's `file:line` problems point at the user's file. Addresses outside 127/8 are kept as written. A file
// that does not parse is copied as it is, so the control plane reports (and refuses) it as usual.
import { isIPv4 } from 'node:net';
import { isPair, isScalar, parseAllDocuments, visit, type Scalar } from 'yaml';

export const VIP_PREFIX = '10.96';

export interface NetnsTranslation {
  text: string;
  /** loopback address → netns address, for every pod IP and VIP the file mentions. */
  readonly mapped: ReadonlyMap<string, string>;
  /** What could not be mapped (a pod on an unknown node, two pods on one 10.0.N.x address, …). */
  readonly problems: string[];
}

type Loose = Record<string, unknown>;
const record = (value: unknown): Loose => (value && typeof value === 'object' ? (value as Loose) : {});
const isLoopback = (ip: unknown): ip is string => typeof ip === 'string' && isIPv4(ip) && ip.startsWith('127.');
const octets = (ip: string): number[] => ip.split('.').map(Number);

/** Whether a scalar is the value of a `jwksUri:` key. */
function isJwksUri(parent: unknown): boolean {
  return isPair(parent) && isScalar(parent.key) && parent.key.value === 'jwksUri';
}

/** The pod's netns address for a loopback pod IP on node id `nodeId` (undefined when z + 1 leaves the /24). */
export function podAddress(loopbackIp: string, nodeId: number): string | undefined {
  const z = octets(loopbackIp)[3]!;
  return z + 1 >= 2 && z + 1 <= 253 ? `10.0.${nodeId}.${z + 1}` : undefined;
}

export function vipAddress(loopbackIp: string): string {
  const [, , y, z] = octets(loopbackIp);
  return `${VIP_PREFIX}.${y}.${z}`;
}

/**
 * Rewrites one mesh file for netns mode. `nodeIds` maps node names to topology node ids; `hostAddress` is
 * where the host's JWKS servers listen.
 */
export function translateForNetns(
  text: string,
  file: string,
  nodeIds: ReadonlyMap<string, number>,
  hostAddress: string,
): NetnsTranslation {
  const documents = parseAllDocuments(text);
  const problems: string[] = [];
  const mapped = new Map<string, string>();
  if (!Array.isArray(documents) || documents.some((document) => document.errors.length > 0))
    return { text, mapped, problems };
  const owners = new Map<string, string>();
  const claim = (from: string, to: string, who: string): void => {
    const previous = owners.get(to);
    if (previous && mapped.get(from) !== to) {
      problems.push(`${file}: ${who} and ${previous} both map to ${to}; give one of them another address`);
      return;
    }
    owners.set(to, who);
    mapped.set(from, to);
  };
  for (const document of documents) {
    const object = record(document.toJS());
    const metadata = record(object['metadata']);
    const spec = record(object['spec']);
    const status = record(object['status']);
    const name = `${String(object['kind'])} ${String(metadata['namespace'] ?? 'default')}/${String(metadata['name'])}`;
    const onNode = (ips: unknown[], node: unknown): void => {
      for (const ip of ips.filter(isLoopback)) {
        const id = typeof node === 'string' ? nodeIds.get(node) : undefined;
        const to = id === undefined ? undefined : podAddress(ip, id);
        if (to) claim(ip, to, name);
        else
          problems.push(
            id === undefined
              ? `${file}: ${name}: node ${String(node)} is not one of the topology's nodes (${[...nodeIds.keys()].join(', ')}); its pod IP ${ip} is not mapped`
              : `${file}: ${name}: pod IP ${ip} has no netns address (last octet must be 1..252)`,
          );
      }
    };
    const vips = (ips: unknown[]): void => {
      for (const ip of ips.filter(isLoopback)) claim(ip, vipAddress(ip), name);
    };
    if (object['kind'] === 'Pod') {
      const listed = Array.isArray(status['podIPs']) ? status['podIPs'].map((entry) => record(entry)['ip']) : [];
      onNode([status['podIP'], ...listed], spec['nodeName']);
    } else if (object['kind'] === 'Service') {
      vips([spec['clusterIP'], ...(Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : [])]);
    } else if (object['kind'] === 'Gateway') {
      const annotations = record(metadata['annotations']);
      onNode([annotations['ambient-ts.io/pod-ip']], annotations['ambient-ts.io/node']);
      vips(Array.isArray(spec['addresses']) ? spec['addresses'].map((address) => record(address)['value']) : []);
    }
  }
  // Replace scalars in place, from the end of the text so earlier offsets stay valid.
  const edits: { start: number; end: number; replacement: string }[] = [];
  for (const document of documents) {
    visit(document, {
      Scalar(_key, node: Scalar, path) {
        if (typeof node.value !== 'string' || !node.range) return;
        const [start, end] = node.range;
        const value = node.value;
        const source = text.slice(start, end);
        const bare = value.endsWith('/32') ? value.slice(0, -3) : value;
        let replacement: string | undefined;
        if (mapped.has(bare)) replacement = source.replace(bare, mapped.get(bare)!);
        else if (isJwksUri(path.at(-1))) {
          const url = URL.canParse(value) ? new URL(value) : undefined;
          if (url && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && source.includes(url.host)) {
            replacement = source.replace(url.host, `${hostAddress}${url.port ? `:${url.port}` : ''}`);
          }
        }
        if (replacement !== undefined && replacement !== source) edits.push({ start, end, replacement });
      },
    });
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.replacement + out.slice(edit.end);
  return { text: out, mapped, problems };
}
