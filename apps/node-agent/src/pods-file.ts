// The pods file: which node this agent serves and the pods on it (YAML). Parsing and validation are pure: a file
// that does not parse or validate is one PodsFileError listing every problem as `file:line: field: message`.
//
//   node: node0                      # a node of the topology (node<i>)
//   pods:
//     - name: productpage            # Kubernetes pod name
//       namespace: default
//       serviceAccount: bookinfo     # default "default"
//       ip: 10.0.2.5                 # 10.0.<node id>.<2..253>: the pod id is the last octet
//       uid: optional                # default cluster1//v1/Pod/<namespace>/<name>, as Istio's test agent forms it
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';

/** One pod of the file, validated, uid filled in. */
export interface PodSpec {
  /** `<namespace>/<name>`, the pod's key. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly ip: string;
  /** Last octet of ip: the topology's pod id. */
  readonly id: number;
  readonly uid: string;
  /** Where it is in the file (1-based). */
  readonly line: number;
}

export interface PodsFile {
  readonly node: string;
  readonly pods: readonly PodSpec[];
}

export interface PodsFileProblem {
  readonly line: number;
  /** `node`, `pods[2].ip`, … (`(file)` for the document itself). */
  readonly field: string;
  readonly message: string;
}

export type PodsFileErrorCode = 'PODS_FILE_INVALID' | 'PODS_FILE_UNREADABLE';

export class PodsFileError extends Error {
  readonly code: PodsFileErrorCode;
  readonly file: string;
  readonly problems: readonly PodsFileProblem[];

  constructor(code: PodsFileErrorCode, file: string, problems: readonly PodsFileProblem[], detail?: string) {
    super(
      detail ??
        `pods file ${file} is invalid (the pods in force stay in force):\n${problems
          .map((p) => `  ${file}:${p.line}: ${p.field}: ${p.message}`)
          .join('\n')}`,
    );
    this.name = 'PodsFileError';
    this.code = code;
    this.file = file;
    this.problems = problems;
  }
}

export interface ParseOptions {
  /** Named in errors. */
  readonly file?: string;
  /** The topology's nodes (name → node id): the file's node must be one, and its pods' ips in its /24. */
  readonly nodes?: ReadonlyMap<string, number>;
  /** Cluster id of default uids; default cluster1. */
  readonly clusterId?: string;
}

/** Istio's test agent's pod uid. */
export const defaultPodUid = (namespace: string, name: string, clusterId = 'cluster1'): string =>
  `${clusterId}//v1/Pod/${namespace}/${name}`;

// Kubernetes: pod and service-account names are DNS-1123 subdomains, namespaces DNS-1123 labels.
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const POD_FIELDS = ['name', 'namespace', 'serviceAccount', 'ip', 'uid'];

/** Parses and validates a pods file's text; throws PodsFileError listing every problem. */
export function parsePodsFile(text: string, options: ParseOptions = {}): PodsFile {
  const file = options.file ?? '(pods file)';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const problems: PodsFileProblem[] = [];
  const problem = (node: YamlNode | null | undefined, field: string, message: string): void => {
    problems.push({ line: lineOf(node), field, message });
  };
  for (const error of doc.errors) {
    problems.push({ line: lines.linePos(error.pos[0]).line, field: '(file)', message: error.message.split('\n')[0]! });
  }
  if (problems.length > 0) throw new PodsFileError('PODS_FILE_INVALID', file, problems);

  const root = doc.contents;
  if (!isMap(root)) {
    throw new PodsFileError('PODS_FILE_INVALID', file, [
      { line: lineOf(root), field: '(file)', message: 'expected a mapping with node and pods' },
    ]);
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (key !== 'node' && key !== 'pods') problem(pair.key as YamlNode, key, 'unknown field (expected node, pods)');
  }
  const nodeNode = root.get('node', true) as YamlNode | undefined;
  const node = stringField(doc, ['node'], 'node', problem);
  if (node !== undefined && options.nodes && !options.nodes.has(node)) {
    problem(nodeNode, 'node', `no node ${node} in the topology (nodes: ${[...options.nodes.keys()].join(', ')})`);
  }
  const nodeId = node === undefined ? undefined : options.nodes?.get(node);

  const podsNode = root.get('pods', true) as YamlNode | undefined;
  const pods: PodSpec[] = [];
  if (podsNode === undefined) problem(root, 'pods', 'required (a list, may be empty)');
  else if (!isSeq(podsNode) && !(isScalar(podsNode) && podsNode.value === null))
    problem(podsNode, 'pods', 'must be a list of pods');
  else if (isSeq(podsNode)) {
    const seen = { key: new Map<string, number>(), ip: new Map<string, number>(), uid: new Map<string, number>() };
    podsNode.items.forEach((item, index) => {
      const at = `pods[${index}]`;
      const itemNode = item as YamlNode;
      if (!isMap(item)) {
        problem(itemNode, at, 'must be a mapping (name, namespace, serviceAccount, ip, uid)');
        return;
      }
      for (const pair of item.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        if (!POD_FIELDS.includes(key))
          problem(pair.key as YamlNode, `${at}.${key}`, `unknown field (expected ${POD_FIELDS.join(', ')})`);
      }
      const path = (field: string) => ['pods', index, field];
      const fieldNode = (field: string) => doc.getIn(path(field), true) as YamlNode | undefined;
      const check = (field: string, value: string | undefined, pattern: RegExp, max: number, what: string) => {
        if (value === undefined) return undefined;
        if (value.length > max || !pattern.test(value)) {
          problem(fieldNode(field), `${at}.${field}`, `"${value}" is not ${what}`);
          return undefined;
        }
        return value;
      };
      const name = check(
        'name',
        stringField(doc, path('name'), `${at}.name`, problem),
        SUBDOMAIN,
        253,
        'a Kubernetes name (lower-case DNS-1123 subdomain)',
      );
      const namespace = check(
        'namespace',
        stringField(doc, path('namespace'), `${at}.namespace`, problem),
        LABEL,
        63,
        'a Kubernetes namespace (lower-case DNS-1123 label)',
      );
      const serviceAccount = check(
        'serviceAccount',
        stringField(doc, path('serviceAccount'), `${at}.serviceAccount`, problem, 'default'),
        SUBDOMAIN,
        253,
        'a Kubernetes service account name (lower-case DNS-1123 subdomain)',
      );
      const ipText = stringField(doc, path('ip'), `${at}.ip`, problem);
      let id: number | undefined;
      if (ipText !== undefined) {
        const octets = /^10\.0\.(\d{1,3})\.(\d{1,3})$/.exec(ipText);
        const third = Number(octets?.[1]);
        const last = Number(octets?.[2]);
        if (!octets || third > 255 || last < 2 || last > 253)
          problem(fieldNode('ip'), `${at}.ip`, `"${ipText}" is not a pod address 10.0.<node id>.<2..253>`);
        else if (nodeId !== undefined && third !== nodeId)
          problem(fieldNode('ip'), `${at}.ip`, `${ipText} is not on node ${node} (its pods are 10.0.${nodeId}.x)`);
        else id = last;
      }
      const uidText = stringField(doc, path('uid'), `${at}.uid`, problem, '');
      if (uidText === '' && fieldNode('uid') !== undefined)
        problem(fieldNode('uid'), `${at}.uid`, 'must not be empty (leave it out for the default)');
      if (name === undefined || namespace === undefined || serviceAccount === undefined || id === undefined) return;
      const uid = uidText || defaultPodUid(namespace, name, options.clusterId);
      const line = lineOf(itemNode);
      const spec: PodSpec = {
        key: `${namespace}/${name}`,
        name,
        namespace,
        serviceAccount,
        ip: ipText!,
        id,
        uid,
        line,
      };
      const duplicate = (kind: keyof typeof seen, value: string, field: string, what: string): boolean => {
        const earlier = seen[kind].get(value);
        if (earlier === undefined) {
          seen[kind].set(value, line);
          return false;
        }
        problem(fieldNode(field) ?? itemNode, `${at}.${field}`, `${what} ${value} is already used at line ${earlier}`);
        return true;
      };
      const clash = [
        duplicate('key', spec.key, 'name', 'pod'),
        duplicate('ip', spec.ip, 'ip', 'address'),
        duplicate('uid', spec.uid, 'uid', 'uid'),
      ];
      if (!clash.includes(true)) pods.push(spec);
    });
  }
  if (problems.length > 0) throw new PodsFileError('PODS_FILE_INVALID', file, problems);
  return { node: node!, pods };
}

/** A string field: undefined (and a problem) when missing without a default or not a string. */
function stringField(
  doc: Document,
  path: (string | number)[],
  field: string,
  problem: (node: YamlNode | null | undefined, field: string, message: string) => void,
  fallback?: string,
): string | undefined {
  const node = doc.getIn(path, true) as YamlNode | undefined;
  if (node === undefined || (isScalar(node) && node.value === null)) {
    if (fallback !== undefined) return fallback;
    const parent = doc.getIn(path.slice(0, -1), true) as YamlNode | undefined;
    problem(parent ?? doc.contents, field, 'required');
    return undefined;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    problem(node, field, 'must be a string');
    return undefined;
  }
  return node.value;
}
