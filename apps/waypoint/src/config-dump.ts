// /config_dump: what this waypoint serves and enforces — its own identity, the Services and workloads
// bound to it (with port protocols and attached routes), every L7 object in force or rejected, live
// tunnels, its certificate, and the effective configuration.
import { formatHostPort, formatSocketAddress } from '@ambient-ts/addresses';
import { serviceKey, workloadIdentity, type DiscoveryStore } from '@ambient-ts/discovery';
import type { AuthorizationPolicy, RequestAuthenticationPolicy } from '@ambient-ts/policy';
import { attachedRoutes, type HttpRoute } from '@ambient-ts/routes';
import { redactedConfig, type Config } from './config.ts';
import type { L7Store } from './l7/l7-store.ts';
import type { TunnelContext } from './proxy/tunnel.ts';
import { designatesSelf, type WaypointSelf } from './routing/dispatch.ts';
import type { AppProtocols } from './state/app-protocols.ts';

export interface DumpSources {
  readonly config: Config;
  readonly version: string;
  readonly identity: string;
  readonly self: WaypointSelf;
  readonly store: DiscoveryStore;
  readonly l7: L7Store;
  readonly protocols: AppProtocols;
  readonly tunnels: readonly TunnelContext[];
  readonly certificates: unknown[];
  readonly xdsState: string;
  readonly lifecycle: string;
}

function route(value: HttpRoute): Record<string, unknown> {
  return {
    name: value.key,
    parentRefs: value.parentRefs.map((p) => `${p.kind}/${p.namespace}/${p.name}${p.port ? `:${p.port}` : ''}`),
    rules: value.rules.map((rule) => ({
      name: rule.name ?? String(rule.index),
      matches: rule.matches.length,
      filters: rule.filters.map((f) => (f.type === 'Unsupported' ? `${f.name} (not implemented)` : f.type)),
      backends: rule.backendRefs.map((b) => `${b.namespace}/${b.name}${b.port ? `:${b.port}` : ''} weight=${b.weight}`),
    })),
    warnings: value.warnings,
  };
}

function policy(value: AuthorizationPolicy | RequestAuthenticationPolicy): Record<string, unknown> {
  return {
    name: value.key,
    ...('action' in value
      ? { action: value.action, dryRun: value.dryRun, rules: value.rules.length }
      : { jwtRules: value.jwtRules.map((r) => r.issuer) }),
    targetRefs:
      value.attachment.kind === 'targetRefs' ? value.attachment.targetRefs.map((r) => `${r.kind}/${r.name}`) : [],
    problems: value.problems.map((p) => `${p.field}: ${p.message} (${p.effect})`),
  };
}

export function buildConfigDump(sources: DumpSources): Record<string, unknown> {
  const { store, l7, self } = sources;
  const services = [...store.services()].filter(
    (s) =>
      designatesSelf(store, s.waypoint, self) ||
      s.weightedWaypoints.some((w) => designatesSelf(store, w.destination, self)),
  );
  const workloads = [...store.workloads()].filter((w) => designatesSelf(store, w.waypoint, self));
  const routes = l7.routes();
  return {
    waypoint: {
      gateway: `${self.namespace}/${self.gatewayName}`,
      identity: sources.identity,
      hostname: self.hostname,
      address: formatHostPort(self.instanceIp, sources.config.hbonePort),
      gatewayClass: l7.gateway(self.namespace, self.gatewayName)?.gatewayClassName ?? 'istio-waypoint',
      state: sources.lifecycle,
      xds: sources.xdsState,
    },
    services: services.map((s) => ({
      name: serviceKey(s),
      vips: s.vips.map((v) => `${v.network}/${v.address}`),
      ports: s.ports.map((p) => ({
        servicePort: p.servicePort,
        targetPort: p.targetPort,
        appProtocol: sources.protocols.get(serviceKey(s), p.servicePort),
        routes: attachedRoutes(routes, s, p.servicePort).map((r) => r.key),
      })),
    })),
    workloads: workloads.map((w) => ({ uid: w.uid, identity: workloadIdentity(w), ips: w.workloadIps })),
    routes: routes.map(route),
    policies: l7.authorizationPolicies().map(policy),
    requestAuthentications: l7.requestAuthentications().map(policy),
    l7: l7.snapshot(),
    tunnels: sources.tunnels.map((t) => ({
      id: t.id,
      src: formatSocketAddress(t.remote),
      srcIdentity: t.peerIdentity,
      originalDst: t.authority,
      mode: t.mode,
      inflight: t.inflight,
    })),
    certificates: sources.certificates,
    version: { version: sources.version, runtime: `node ${process.versions.node}` },
    config: redactedConfig(sources.config),
  };
}
