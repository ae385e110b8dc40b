// /config_dump in the shape `istioctl ztunnel-config` reads (ztunnel-facts §7.3): workloads, services,
// policies, certificates, the effective config, version, and per-workload state with its connections; in
// shared mode also `inpod`: every pod proxy (uid, name, namespace, netns, state, listeners, last error) and
// the ZDS client's status.
import type { GatewayAddress, NetworkAddress, StoreSnapshot } from '@ambient-ts/discovery';
import type { security } from '@ambient-ts/istio-api';
import { redactedConfig, type Config } from './config.ts';
import type { TrackedConnection } from './connection-manager.ts';

export interface DumpSources {
  config: Config;
  version: string;
  snapshot: StoreSnapshot;
  certificates: unknown[];
  localWorkloads: { uid: string; name: string; namespace: string; serviceAccount: string }[];
  connections: TrackedConnection[];
  /** Shared mode: the pod proxies and the ZDS client's status. */
  inpod?: { pods: unknown[]; zds: unknown };
}

const networkAddress = (value: NetworkAddress): string => `${value.network}/${value.address}`;

function gateway(value: GatewayAddress | undefined): unknown {
  if (!value) return undefined;
  const destination =
    value.destination.kind === 'address'
      ? networkAddress(value.destination)
      : `${value.destination.namespace}/${value.destination.hostname}`;
  return { destination, hboneMtlsPort: value.hboneMtlsPort };
}

const title = (text: string): string =>
  text.charAt(0) +
  text
    .slice(1)
    .toLowerCase()
    .replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

function policy(value: security.Authorization): Record<string, unknown> {
  return {
    ...value,
    scope: title(String(value.scope ?? 'GLOBAL')),
    action: title(String(value.action ?? 'ALLOW')),
    dryRun: value.dryRun ?? false,
  };
}

function connection(value: TrackedConnection): Record<string, unknown> {
  return {
    src: value.source,
    originalDst: value.hboneAuthority ?? value.destination,
    actualDst: value.destination,
    ...(value.sourceIdentity ? { srcIdentity: value.sourceIdentity } : {}),
  };
}

export function buildConfigDump(sources: DumpSources): Record<string, unknown> {
  const workloadState = Object.fromEntries(
    sources.localWorkloads.map((workload) => {
      const mine = sources.connections.filter((entry) => entry.localWorkload === workload.uid);
      return [
        workload.uid,
        {
          state: 'Up',
          info: { name: workload.name, namespace: workload.namespace, serviceAccount: workload.serviceAccount },
          connections: {
            inbound: mine.filter((entry) => entry.direction === 'inbound').map(connection),
            outbound: mine.filter((entry) => entry.direction === 'outbound').map(connection),
          },
        },
      ];
    }),
  );
  return {
    workloads: sources.snapshot.workloads.map((workload) => ({
      ...workload,
      waypoint: gateway(workload['waypoint'] as GatewayAddress | undefined),
      networkGateway: gateway(workload['networkGateway'] as GatewayAddress | undefined),
    })),
    services: sources.snapshot.services.map((service) => ({
      ...service,
      vips: (service['vips'] as NetworkAddress[]).map(networkAddress),
      waypoint: gateway(service['waypoint'] as GatewayAddress | undefined),
    })),
    policies: sources.snapshot.policies.map(policy),
    stagedServices: {},
    staticConfig: { workloads: [], services: [], policies: [] },
    version: { version: sources.version, gitRevision: 'unknown', runtime: `node ${process.versions.node}` },
    config: redactedConfig(sources.config),
    certificates: sources.certificates,
    workloadState,
    ...(sources.inpod ? { inpod: sources.inpod } : {}),
  };
}
