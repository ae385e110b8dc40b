// ztunnel LocalConfig workloads and services (its serde camelCase model) -> domain model, without
// xDS defaulting (facts §8.1, §12.14).
import { canonicalIp, formatIp, parseCidr } from '@ambient-ts/addresses';
import type {
  ApplicationTunnel,
  GatewayAddress,
  LoadBalancer,
  NetworkAddress,
  NetworkCidr,
  Service,
  Workload,
  WorkloadServicePorts,
} from '../model.ts';
import type { YamlCursor } from './yaml-cursor.ts';

const WORKLOAD_KEYS = [
  'workloadIps',
  'waypoint',
  'networkGateway',
  'protocol',
  'networkMode',
  'uid',
  'name',
  'namespace',
  'trustDomain',
  'serviceAccount',
  'network',
  'workloadName',
  'workloadType',
  'canonicalName',
  'canonicalRevision',
  'hostname',
  'node',
  'nativeTunnel',
  'applicationTunnel',
  'authorizationPolicies',
  'status',
  'clusterId',
  'locality',
  'services',
  'capacity',
] as const;

const SERVICE_KEYS = [
  'name',
  'namespace',
  'hostname',
  'vips',
  'ports',
  'endpoints',
  'subjectAltNames',
  'waypoint',
  'weightedWaypoints',
  'loadBalancer',
  'ipFamilies',
  'canonical',
  'visibility',
] as const;

function str(fields: Map<string, YamlCursor>, key: string): string {
  const cursor = fields.get(key);
  return cursor && !cursor.isNull ? cursor.string() : '';
}

function required(fields: Map<string, YamlCursor>, key: string, parent: YamlCursor): YamlCursor {
  const cursor = fields.get(key);
  if (!cursor || cursor.isNull) parent.fail(`missing required field ${key}`);
  return cursor;
}

function ip(cursor: YamlCursor): string {
  const text = cursor.string();
  const canonical = canonicalIp(text);
  if (canonical === undefined) cursor.fail(`not an IP address: ${JSON.stringify(text)}`);
  return canonical;
}

/** `network/ip` (default network: a leading `/`). */
function networkAddress(cursor: YamlCursor): NetworkAddress {
  const text = cursor.string();
  const slash = text.indexOf('/');
  const canonical = slash >= 0 ? canonicalIp(text.slice(slash + 1)) : undefined;
  if (canonical === undefined)
    cursor.fail(`expected "<network>/<ip>" (default network: "/<ip>"), got ${JSON.stringify(text)}`);
  return { network: text.slice(0, slash), address: canonical };
}

export function gateway(cursor: YamlCursor): GatewayAddress {
  const fields = cursor.map(['destination', 'hboneMtlsPort']);
  const dest = required(fields, 'destination', cursor);
  const port = required(fields, 'hboneMtlsPort', cursor).int(0, 65535);
  const text = dest.string();
  const slash = text.indexOf('/');
  if (slash < 0) dest.fail(`expected "<network>/<ip>" or "<namespace>/<hostname>", got ${JSON.stringify(text)}`);
  const tail = text.slice(slash + 1);
  const canonical = canonicalIp(tail);
  // serde untagged: an address first, then a namespaced hostname
  if (canonical !== undefined)
    return { destination: { kind: 'address', network: text.slice(0, slash), address: canonical }, hboneMtlsPort: port };
  return { destination: { kind: 'hostname', namespace: text.slice(0, slash), hostname: tail }, hboneMtlsPort: port };
}

function portMap(cursor: YamlCursor): Map<number, number> {
  const map = new Map<number, number>();
  for (const { key, value } of cursor.entries()) map.set(key.int(0, 65535), value.int(0, 65535));
  return map;
}

export function localWorkload(cursor: YamlCursor): Workload {
  const f = cursor.map(WORKLOAD_KEYS);
  const ips = required(f, 'workloadIps', cursor).list().map(ip);
  const namespace = required(f, 'namespace', cursor).string();
  const services: WorkloadServicePorts[] = (f.get('services')?.entries() ?? []).map(({ name, key, value }) => {
    if (!name.includes('/')) key.fail('service key is not namespace/hostname');
    return { service: name, ports: portMap(value) };
  });
  const tunnel = f.get('applicationTunnel');
  let applicationTunnel: ApplicationTunnel | undefined;
  if (tunnel && !tunnel.isNull) {
    const t = tunnel.map(['protocol', 'port']);
    const port = t.get('port');
    applicationTunnel = {
      protocol: required(t, 'protocol', tunnel).oneOf(['NONE', 'PROXY'] as const),
      ...(port && !port.isNull ? { port: port.int(0, 65535) } : {}),
    };
  }
  const locality = f.get('locality');
  const l = locality ? locality.map(['region', 'zone', 'subzone']) : new Map<string, YamlCursor>();
  const waypoint = f.get('waypoint');
  const networkGateway = f.get('networkGateway');
  return {
    uid: str(f, 'uid'),
    name: str(f, 'name'),
    namespace,
    workloadIps: ips,
    hostname: str(f, 'hostname'),
    network: str(f, 'network'),
    protocol: f.get('protocol')?.oneOf(['TCP', 'HBONE'] as const) ?? 'TCP',
    trustDomain: str(f, 'trustDomain'),
    serviceAccount: str(f, 'serviceAccount'),
    ...(waypoint && !waypoint.isNull ? { waypoint: gateway(waypoint) } : {}),
    ...(networkGateway && !networkGateway.isNull ? { networkGateway: gateway(networkGateway) } : {}),
    node: str(f, 'node'),
    canonicalName: str(f, 'canonicalName'),
    canonicalRevision: str(f, 'canonicalRevision'),
    workloadType: str(f, 'workloadType'),
    workloadName: str(f, 'workloadName'),
    nativeTunnel: f.get('nativeTunnel')?.bool() ?? false,
    ...(applicationTunnel ? { applicationTunnel } : {}),
    services,
    authorizationPolicies: (f.get('authorizationPolicies')?.list() ?? []).map((c) => c.string()),
    status: f.get('status')?.oneOf(['Healthy', 'Unhealthy'] as const) ?? 'Healthy',
    clusterId: str(f, 'clusterId'),
    locality: { region: str(l, 'region'), zone: str(l, 'zone'), subzone: str(l, 'subzone') },
    networkMode: f.get('networkMode')?.oneOf(['Standard', 'HostNetwork'] as const) ?? 'Standard',
    capacity: f.get('capacity')?.int(0, 4294967295) ?? 1,
  };
}

function loadBalancer(cursor: YamlCursor): LoadBalancer {
  const f = cursor.map(['routingPreferences', 'mode', 'healthPolicy']);
  return {
    routingPreferences: (f.get('routingPreferences')?.list() ?? []).map((c) =>
      c.oneOf(['Region', 'Zone', 'Subzone', 'Node', 'Cluster', 'Network'] as const),
    ),
    mode: f.get('mode')?.oneOf(['Standard', 'Strict', 'Failover', 'Passthrough'] as const) ?? 'Standard',
    healthPolicy: f.get('healthPolicy')?.oneOf(['OnlyHealthy', 'AllowAll'] as const) ?? 'OnlyHealthy',
  };
}

export function localService(cursor: YamlCursor): Service {
  const f = cursor.map(SERVICE_KEYS);
  const vips: NetworkAddress[] = [];
  const cidrVips: NetworkCidr[] = [];
  for (const vip of required(f, 'vips', cursor).list()) {
    const text = vip.string();
    const slash = text.indexOf('/');
    if (slash >= 0 && text.indexOf('/', slash + 1) >= 0) {
      // extension: "<network>/<ip>/<prefix>" declares a CIDR VIP
      const range = parseCidr(text.slice(slash + 1));
      if (range === undefined) return vip.fail(`invalid CIDR VIP ${JSON.stringify(text)}`);
      const address = formatIp(range);
      if (range.prefixLength === range.bytes.length * 8) vips.push({ network: text.slice(0, slash), address });
      else cidrVips.push({ network: text.slice(0, slash), address, prefixLength: range.prefixLength });
    } else vips.push(networkAddress(vip));
  }
  const ports = [...portMap(required(f, 'ports', cursor))].map(([servicePort, targetPort]) => ({
    servicePort,
    targetPort,
  }));
  const waypoint = f.get('waypoint');
  const lb = f.get('loadBalancer');
  const families = f.get('ipFamilies');
  return {
    name: required(f, 'name', cursor).string(),
    namespace: required(f, 'namespace', cursor).string(),
    hostname: required(f, 'hostname', cursor).string(),
    vips,
    cidrVips,
    ports,
    subjectAltNames: (f.get('subjectAltNames')?.list() ?? []).map((c) => c.string()),
    ...(waypoint && !waypoint.isNull ? { waypoint: gateway(waypoint) } : {}),
    weightedWaypoints: (f.get('weightedWaypoints')?.list() ?? []).map((c) => {
      const w = c.map(['destination', 'weight']);
      return { destination: gateway(required(w, 'destination', c)), weight: w.get('weight')?.int(0, 4294967295) ?? 0 };
    }),
    ...(lb && !lb.isNull ? { loadBalancer: loadBalancer(lb) } : {}),
    ...(families && !families.isNull ? { ipFamilies: families.oneOf(['Dual', 'IPv4', 'IPv6'] as const) } : {}),
    canonical: f.get('canonical')?.bool() ?? false,
    visibility: f.get('visibility')?.oneOf(['Public', 'Namespace'] as const) ?? 'Public',
  };
}
