// A Gateway of class istio-waypoint → the waypoint it declares, plus the addresses of the Deployment
// and Service istiod would create for it (l7-facts §1.1–§1.2).
import type { FieldReader } from './fields.ts';
import { isRecord, type JsonRecord } from './fields.ts';
import { parseIp, type ParsedIp } from './ip-allocator.ts';
import { ANNOTATION, LABEL, WAYPOINT_CLASS, type Meta, type TrafficType, type WaypointRec } from './model.ts';
import { readMeta } from './parse-core.ts';

export interface WaypointDecl {
  readonly meta: Meta;
  /** The Gateway object as written (waypoints receive it). */
  readonly raw: JsonRecord;
  readonly trafficType: TrafficType;
  readonly serviceAccount: string;
  /** Listener ports, each once, in order (the Service gets status-port 15021 first, then these). */
  readonly listenerPorts: readonly { readonly name: string; readonly port: number }[];
  readonly allowedRoutes: WaypointRec['allowedRoutes'];
  readonly binding?: WaypointRec['binding'];
  readonly vip?: ParsedIp;
  readonly podIp?: ParsedIp;
  readonly node?: string;
}

const TRAFFIC_TYPES: readonly TrafficType[] = ['service', 'workload', 'all', 'none'];

function readTrafficType(r: FieldReader, meta: Meta): TrafficType {
  const value = meta.labels[LABEL.waypointFor];
  if (value === undefined) return 'service';
  if ((TRAFFIC_TYPES as readonly string[]).includes(value)) return value as TrafficType;
  r.error(
    ['metadata', 'labels', LABEL.waypointFor],
    `${JSON.stringify(value)} is not one of ${TRAFFIC_TYPES.join(', ')}`,
  );
  return 'service';
}

function readListeners(r: FieldReader): {
  ports: WaypointDecl['listenerPorts'];
  allowed: WaypointDecl['allowedRoutes'];
} {
  const ports: { name: string; port: number }[] = [];
  let allowed: WaypointDecl['allowedRoutes'] = { from: 'Same' };
  let hbone = false;
  r.list(['spec', 'listeners']).forEach((_, i) => {
    const base = ['spec', 'listeners', i];
    const port = r.int([...base, 'port'], 1, 65535, true);
    const protocol = r.string([...base, 'protocol'], true);
    const name = r.string([...base, 'name']) ?? `${(protocol ?? 'tcp').toLowerCase()}-${i}`;
    if (port === undefined) return;
    if (!ports.some((p) => p.port === port)) ports.push({ name, port });
    if (protocol !== 'HBONE' || port !== 15008) return;
    hbone = true;
    const from = r.string([...base, 'allowedRoutes', 'namespaces', 'from']) ?? 'Same';
    if (from !== 'All' && from !== 'Same' && from !== 'Selector') {
      r.error(
        [...base, 'allowedRoutes', 'namespaces', 'from'],
        `must be All, Same or Selector, got ${JSON.stringify(from)}`,
      );
      return;
    }
    const selector = r.stringMap([...base, 'allowedRoutes', 'namespaces', 'selector', 'matchLabels']);
    allowed = from === 'Selector' ? { from, selector } : { from };
  });
  if (!hbone) {
    r.warn(
      ['spec', 'listeners'],
      'has no HBONE listener on port 15008 (name it mesh); only namespaces of the same name may use this waypoint',
    );
  }
  return { ports, allowed };
}

/** `ambient.istio.io/waypoint-inbound-binding`: `NONE`, `PROXY` or `PROXY/<port>`. */
function readBinding(r: FieldReader, meta: Meta): WaypointRec['binding'] {
  const text = meta.annotations[ANNOTATION.waypointInboundBinding];
  if (text === undefined) return undefined;
  const path = ['metadata', 'annotations', ANNOTATION.waypointInboundBinding];
  const [protocol, portText, extra] = text.split('/');
  const port = portText === undefined ? 0 : Number(portText);
  if (
    (protocol !== 'NONE' && protocol !== 'PROXY') ||
    extra !== undefined ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    r.warn(
      path,
      `${JSON.stringify(text)} is not "<NONE|PROXY>" or "<NONE|PROXY>/<port>"; ignored as istiod ignores it`,
    );
    return undefined;
  }
  return { protocol, port };
}

function readIpField(r: FieldReader, path: (string | number)[], text: unknown): ParsedIp | undefined {
  if (text === undefined) return undefined;
  const ip = typeof text === 'string' ? parseIp(text) : undefined;
  if (ip === undefined) r.error(path, `${JSON.stringify(text)} is not an IP address`);
  return ip;
}

/** undefined when rejected, or (with a warning) when the Gateway is not a waypoint. */
export function parseWaypointGateway(r: FieldReader): WaypointDecl | undefined {
  const meta = readMeta(r, true);
  const className = r.string(['spec', 'gatewayClassName'], true);
  if (meta === undefined || className === undefined) return undefined;
  if (className !== WAYPOINT_CLASS) {
    r.warn(
      ['spec', 'gatewayClassName'],
      `only Gateways of class ${WAYPOINT_CLASS} are translated (waypoints); this one is skipped`,
    );
    return undefined;
  }
  const trafficType = readTrafficType(r, meta);
  const { ports, allowed } = readListeners(r);
  const binding = readBinding(r, meta);
  const addresses = r.list(['spec', 'addresses']);
  const first = addresses[0];
  if (isRecord(first) && first['type'] !== undefined && first['type'] !== 'IPAddress') {
    r.error(['spec', 'addresses', 0, 'type'], 'only IPAddress is supported for a waypoint Service VIP');
  }
  const vip = readIpField(r, ['spec', 'addresses', 0, 'value'], isRecord(first) ? first['value'] : first);
  const podIp = readIpField(r, ['metadata', 'annotations', ANNOTATION.podIp], meta.annotations[ANNOTATION.podIp]);
  const node = meta.annotations[ANNOTATION.node];
  if (r.errors > 0) return undefined;
  return {
    meta,
    raw: r.get([]) as JsonRecord,
    trafficType,
    serviceAccount: meta.annotations[ANNOTATION.waypointServiceAccount] ?? meta.name,
    listenerPorts: ports,
    allowedRoutes: allowed,
    ...(binding === undefined ? {} : { binding }),
    ...(vip === undefined ? {} : { vip }),
    ...(podIp === undefined ? {} : { podIp }),
    ...(node === undefined ? {} : { node }),
  };
}
