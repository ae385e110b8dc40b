// First pass over the input: name every object, refuse duplicates, list unknown kinds, and parse the
// kinds that need no context. Policies and routes are kept raw for the second pass.
import type { SourcedObject } from '../load/yaml-source.ts';
import { FieldReader, isRecord, type JsonRecord } from './fields.ts';
import type { NamespaceRec, NodeRec, PodRec, ResolvedOptions, ServiceRec } from './model.ts';
import { parseNamespace, parseNode, parsePod, parseService } from './parse-core.ts';
import { parseWaypointGateway, type WaypointDecl } from './parse-gateway.ts';
import type { ObjectRef, ProblemLog } from './problems.ts';

export interface SkippedObject {
  readonly kind: string;
  readonly name: string;
  readonly file: string;
  readonly line: number;
}

/** An object whose translation needs everything else first (policies, routes). */
export interface Deferred {
  readonly kind: 'AuthorizationPolicy' | 'RequestAuthentication' | 'HTTPRoute';
  readonly raw: JsonRecord;
  readonly reader: FieldReader;
}

export interface Collected {
  readonly namespaces: Map<string, NamespaceRec>;
  readonly nodes: Map<string, NodeRec>;
  readonly pods: PodRec[];
  readonly services: ServiceRec[];
  readonly gateways: WaypointDecl[];
  readonly deferred: Deferred[];
  readonly skipped: SkippedObject[];
}

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'GatewayClass']);
const DEFERRED = new Set(['AuthorizationPolicy', 'RequestAuthentication', 'HTTPRoute']);

function refOf(value: JsonRecord, kind: string, source: SourcedObject['source']): ObjectRef {
  const metadata = isRecord(value['metadata']) ? value['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  const namespace = CLUSTER_SCOPED.has(kind)
    ? undefined
    : typeof metadata['namespace'] === 'string'
      ? metadata['namespace']
      : 'default';
  return { kind, ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }), source };
}

export function collect(objects: readonly SourcedObject[], options: ResolvedOptions, log: ProblemLog): Collected {
  const out: Collected = {
    namespaces: new Map(),
    nodes: new Map(),
    pods: [],
    services: [],
    gateways: [],
    deferred: [],
    skipped: [],
  };
  const firstSeen = new Map<string, SourcedObject['source']>();
  for (const { value, source } of objects) {
    if (!isRecord(value) || typeof value['kind'] !== 'string' || value['kind'] === '') {
      log.error({ kind: '<unknown>', source }, ['kind'], 'every object needs a kind (and apiVersion, metadata)');
      continue;
    }
    const apiVersion = typeof value['apiVersion'] === 'string' ? value['apiVersion'] : '';
    // Istio's own Gateway (networking.istio.io) is an ingress config, not a Gateway API waypoint
    const kind =
      value['kind'] === 'Gateway' && apiVersion.startsWith('networking.istio.io/')
        ? 'Gateway.networking.istio.io'
        : value['kind'];
    const ref = refOf(value, kind, source);
    const key = `${kind}/${ref.namespace ?? ''}/${ref.name ?? ''}`;
    const earlier = ref.name === undefined ? undefined : firstSeen.get(key);
    if (earlier !== undefined) {
      log.error(
        ref,
        ['metadata', 'name'],
        `duplicate: already defined at ${earlier.file}:${earlier.line}; this one is ignored`,
      );
      continue;
    }
    if (ref.name !== undefined) firstSeen.set(key, source);
    const reader = new FieldReader(value, ref, log);
    switch (kind) {
      case 'Namespace': {
        const ns = parseNamespace(reader);
        if (ns !== undefined) out.namespaces.set(ns.name, ns);
        break;
      }
      case 'Node': {
        const node = parseNode(reader);
        if (node !== undefined) out.nodes.set(node.name, node);
        break;
      }
      case 'Pod': {
        const pod = parsePod(reader);
        if (pod !== undefined) out.pods.push(pod);
        break;
      }
      case 'Service': {
        const service = parseService(reader, options.domainSuffix);
        if (service !== undefined) out.services.push(service);
        break;
      }
      case 'Gateway': {
        const gateway = parseWaypointGateway(reader);
        if (gateway !== undefined) out.gateways.push(gateway);
        break;
      }
      default:
        if (DEFERRED.has(kind)) {
          out.deferred.push({ kind: kind as Deferred['kind'], raw: value, reader });
        } else {
          const name = ref.namespace === undefined ? (ref.name ?? '') : `${ref.namespace}/${ref.name ?? ''}`;
          out.skipped.push({ kind, name, file: source.file, line: source.line });
          log.warn(ref, [], `kind ${kind} is not translated; skipped`);
        }
    }
  }
  return out;
}
