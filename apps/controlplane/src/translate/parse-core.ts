// Core Kubernetes kinds (Namespace, Node, Pod, Service) → validated records. Each parser reports every
// problem it finds and returns undefined when the object has to be rejected.
import type { FieldReader } from './fields.ts';
import { isDnsLabel, isDnsSubdomain, isRecord } from './fields.ts';
import { parseIp, type ParsedIp } from './ip-allocator.ts';
import {
  ANNOTATION,
  type LoadBalancingJson,
  type Meta,
  type NamespaceRec,
  type NodeRec,
  type PodRec,
  type ServicePortRec,
  type ServiceRec,
} from './model.ts';

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** metadata.name/namespace/labels/annotations; the namespace defaults to `default` as kubectl does. */
export function readMeta(r: FieldReader, namespaced: boolean): Meta | undefined {
  const name = r.string(['metadata', 'name'], true);
  if (name !== undefined && !isDnsSubdomain(name)) {
    r.error(
      ['metadata', 'name'],
      `${JSON.stringify(name)} is not a valid name (lower-case letters, digits, "-" and ".")`,
    );
  }
  const namespace = namespaced ? (r.string(['metadata', 'namespace']) ?? 'default') : '';
  if (namespaced && !isDnsLabel(namespace)) {
    r.error(['metadata', 'namespace'], `${JSON.stringify(namespace)} is not a valid namespace name`);
  }
  const labels = r.stringMap(['metadata', 'labels']);
  const annotations = r.stringMap(['metadata', 'annotations']);
  if (name === undefined) return undefined;
  return { name, namespace, labels, annotations, ref: r.ref };
}

export function parseNamespace(r: FieldReader): NamespaceRec | undefined {
  const meta = readMeta(r, false);
  const mode = meta?.labels['istio.io/dataplane-mode'];
  if (mode !== undefined && mode !== 'ambient' && mode !== 'none') {
    r.warn(
      ['metadata', 'labels', 'istio.io/dataplane-mode'],
      `unknown value ${JSON.stringify(mode)} (use ambient or none)`,
    );
  }
  if (meta !== undefined && !isDnsLabel(meta.name)) r.error(['metadata', 'name'], 'is not a valid namespace name');
  if (meta === undefined || r.errors > 0) return undefined;
  return { name: meta.name, labels: meta.labels, ref: r.ref };
}

export function parseNode(r: FieldReader): NodeRec | undefined {
  const meta = readMeta(r, false);
  if (meta === undefined || r.errors > 0) return undefined;
  return { name: meta.name, labels: meta.labels };
}

function readPodIps(r: FieldReader): ParsedIp[] {
  const texts: { text: string; path: (string | number)[] }[] = [];
  const single = r.string(['status', 'podIP']);
  if (single !== undefined) texts.push({ text: single, path: ['status', 'podIP'] });
  r.list(['status', 'podIPs']).forEach((entry, i) => {
    const ip = isRecord(entry) ? entry['ip'] : undefined;
    if (typeof ip !== 'string') r.error(['status', 'podIPs', i, 'ip'], 'must be a string IP address');
    else if (ip !== single) texts.push({ text: ip, path: ['status', 'podIPs', i, 'ip'] });
  });
  const ips: ParsedIp[] = [];
  for (const { text, path } of texts) {
    const ip = parseIp(text);
    if (ip === undefined) r.error(path, `${JSON.stringify(text)} is not an IP address`);
    else ips.push(ip);
  }
  if (texts.length === 0) {
    r.error(
      ['status', 'podIP'],
      'is required: a pod needs an IP to be a workload (use 127.0.N.M addresses for the local mesh)',
    );
  }
  return ips;
}

function readContainerPorts(r: FieldReader): Map<string, number> {
  const names = new Map<string, number>();
  r.list(['spec', 'containers']).forEach((_, c) => {
    r.list(['spec', 'containers', c, 'ports']).forEach((_, p) => {
      const base = ['spec', 'containers', c, 'ports', p];
      const port = r.int([...base, 'containerPort'], 1, 65535, true);
      const name = r.string([...base, 'name']);
      if (name === undefined || port === undefined) return;
      if (name.length > 15 || !IANA_SVC_NAME.test(name)) {
        r.error(
          [...base, 'name'],
          `${JSON.stringify(name)} is not a valid port name (at most 15 lower-case letters, digits and "-")`,
        );
      } else if (names.has(name)) {
        r.error([...base, 'name'], `port name ${JSON.stringify(name)} is used twice in this pod`);
      } else {
        names.set(name, port);
      }
    });
  });
  return names;
}

/** istiod's workload name: the owning Deployment (ReplicaSet minus its hash), Job, … or the pod name. */
function workloadName(r: FieldReader, podName: string, labels: Readonly<Record<string, string>>): string {
  const owners = r.list(['metadata', 'ownerReferences']).filter(isRecord);
  const controller = owners.find((o) => o['controller'] === true) ?? owners[0];
  const kind = controller?.['kind'];
  const name = controller?.['name'];
  if (typeof kind !== 'string' || typeof name !== 'string') return podName;
  if (kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash !== undefined && name.endsWith(`-${hash}`)) return name.slice(0, -hash.length - 1);
  }
  return name;
}

/** Returns undefined for rejected pods and for terminal pods (which istiod does not turn into workloads). */
export function parsePod(r: FieldReader): PodRec | undefined {
  const meta = readMeta(r, true);
  const ips = readPodIps(r);
  const node = r.string(['spec', 'nodeName']);
  const serviceAccount = r.string(['spec', 'serviceAccountName']) ?? r.string(['spec', 'serviceAccount']) ?? 'default';
  const hostNetwork = r.bool(['spec', 'hostNetwork']) ?? false;
  const portNames = readContainerPorts(r);
  const phase = r.string(['status', 'phase']);
  const conditions = r.list(['status', 'conditions']).filter(isRecord);
  const readyCondition = conditions.find((c) => c['type'] === 'Ready');
  const ready = readyCondition === undefined || readyCondition['status'] !== 'False';
  if (meta === undefined || r.errors > 0) return undefined;
  if (phase === 'Succeeded' || phase === 'Failed') {
    r.warn(['status', 'phase'], `a ${phase} pod is not a workload; it is skipped`);
    return undefined;
  }
  if (node === undefined)
    r.warn(['spec', 'nodeName'], 'is not set: no ztunnel will serve this pod and the CA will not issue its identity');
  if (meta.annotations[ANNOTATION.sidecarStatus] !== undefined) {
    r.warn(['metadata', 'annotations', ANNOTATION.sidecarStatus], 'sidecar-injected pods are not captured by ztunnel');
  }
  return {
    meta,
    ips,
    ...(node === undefined ? {} : { node }),
    serviceAccount,
    portNames,
    ready,
    hostNetwork,
    workloadName: workloadName(r, meta.name, meta.labels),
    synthetic: false,
  };
}

function readServicePorts(r: FieldReader): ServicePortRec[] {
  const ports: ServicePortRec[] = [];
  const seen = new Set<number>();
  const list = r.list(['spec', 'ports']);
  list.forEach((_, index) => {
    const base = ['spec', 'ports', index];
    const port = r.int([...base, 'port'], 1, 65535, true);
    const name = r.string([...base, 'name']);
    const appProtocol = r.string([...base, 'appProtocol']);
    if (name === undefined && list.length > 1)
      r.error([...base, 'name'], 'is required when a Service has more than one port');
    const target = r.get([...base, 'targetPort']);
    let targetPort = port ?? 0;
    let targetPortName: string | undefined;
    if (typeof target === 'string' && !/^\d+$/.test(target)) {
      if (target.length > 15 || !IANA_SVC_NAME.test(target)) {
        r.error([...base, 'targetPort'], `${JSON.stringify(target)} is neither a port number nor a valid port name`);
      }
      targetPort = 0;
      targetPortName = target;
    } else if (target !== undefined && target !== null) {
      const n = typeof target === 'string' ? Number(target) : target;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
        r.error(
          [...base, 'targetPort'],
          `must be a port number from 1 to 65535 or a container port name, got ${JSON.stringify(target)}`,
        );
      } else {
        targetPort = n;
      }
    }
    if (port === undefined) return;
    if (seen.has(port)) r.error([...base, 'port'], `port ${port} is listed twice`);
    seen.add(port);
    ports.push({
      index,
      port,
      targetPort,
      ...(name === undefined ? {} : { name }),
      ...(targetPortName === undefined ? {} : { targetPortName }),
      ...(appProtocol === undefined ? {} : { appProtocol }),
    });
  });
  return ports;
}

function readVips(r: FieldReader): ParsedIp[] {
  const ips: ParsedIp[] = [];
  const listed = r.list(['spec', 'clusterIPs']);
  const texts: { text: unknown; path: (string | number)[] }[] =
    listed.length > 0
      ? listed.map((text, i) => ({ text, path: ['spec', 'clusterIPs', i] }))
      : [{ text: r.get(['spec', 'clusterIP']), path: ['spec', 'clusterIP'] }];
  for (const { text, path } of texts) {
    if (text === undefined || text === null || text === '' || text === 'None') continue;
    const ip = typeof text === 'string' ? parseIp(text) : undefined;
    if (ip === undefined)
      r.error(path, `${JSON.stringify(text)} is not an IP address (or "None" for a headless Service)`);
    else ips.push(ip);
  }
  return ips;
}

function readLoadBalancing(r: FieldReader, meta: Meta): LoadBalancingJson | undefined {
  let lb: LoadBalancingJson | undefined;
  const distribution = r.string(['spec', 'trafficDistribution']) ?? meta.annotations[ANNOTATION.trafficDistribution];
  if (distribution?.toLowerCase() === 'preferclose') lb = preferClose();
  if (r.string(['spec', 'internalTrafficPolicy']) === 'Local') lb = { routingPreference: ['NODE'], mode: 'STRICT' };
  if (r.bool(['spec', 'publishNotReadyAddresses']) === true) lb = { ...lb, healthPolicy: 'ALLOW_ALL' };
  return lb;
}

/** istiod's load balancing for PreferClose services (and every waypoint Service). */
export function preferClose(): LoadBalancingJson {
  return { routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE'], mode: 'FAILOVER' };
}

function readIpFamilies(r: FieldReader): ServiceRec['ipFamilies'] {
  const families = r.list(['spec', 'ipFamilies']);
  if (families.length === 2) return 'DUAL';
  if (families[0] === 'IPv4') return 'IPV4_ONLY';
  if (families[0] === 'IPv6') return 'IPV6_ONLY';
  if (families.length > 0) r.error(['spec', 'ipFamilies'], 'must list IPv4 and/or IPv6');
  return undefined;
}

export function parseService(r: FieldReader, domainSuffix: string): ServiceRec | undefined {
  const meta = readMeta(r, true);
  if (meta !== undefined && !isDnsLabel(meta.name))
    r.error(['metadata', 'name'], 'a Service name must be a DNS label (no dots)');
  const type = r.string(['spec', 'type']);
  const ports = readServicePorts(r);
  const vips = readVips(r);
  const selectorRaw = r.get(['spec', 'selector']);
  const selector = selectorRaw === undefined || selectorRaw === null ? undefined : r.stringMap(['spec', 'selector']);
  const loadBalancing = meta === undefined ? undefined : readLoadBalancing(r, meta);
  const ipFamilies = readIpFamilies(r);
  if (meta === undefined || r.errors > 0) return undefined;
  if (type === 'ExternalName') {
    r.warn(['spec', 'type'], 'ExternalName Services are not sent to ztunnel (istiod skips them); it is skipped');
    return undefined;
  }
  if (ports.length === 0) r.warn(['spec', 'ports'], 'the Service has no ports, so no traffic can be addressed to it');
  if (vips.length === 0)
    r.warn(['spec', 'clusterIP'], 'no clusterIP: the Service has no VIP and is reachable only by hostname');
  if (selector === undefined) r.warn(['spec', 'selector'], 'no selector: the Service gets no endpoints from pods');
  return {
    meta,
    hostname: `${meta.name}.${meta.namespace}.svc.${domainSuffix}`,
    vips,
    ports,
    ...(selector === undefined ? {} : { selector }),
    ...(loadBalancing === undefined ? {} : { loadBalancing }),
    ...(ipFamilies === undefined ? {} : { ipFamilies }),
    synthetic: false,
  };
}
