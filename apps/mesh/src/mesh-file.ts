// What the runner needs from the mesh YAML (the control plane does the real translation): nodes, pods with
// their IPs and ports, services, waypoints, and the JWT issuers whose JWKS the runner serves.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface MeshPod {
  name: string;
  namespace: string;
  ip: string;
  node: string;
  serviceAccount: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number }[];
  ambient: boolean;
}

export interface MeshService {
  name: string;
  namespace: string;
  vip: string;
  ports: { port: number; name?: string }[];
  waypoint?: string;
}

export interface MeshWaypoint {
  name: string;
  namespace: string;
  ip: string;
  node: string;
}

export interface MeshFile {
  nodes: string[];
  pods: MeshPod[];
  services: MeshService[];
  waypoints: MeshWaypoint[];
  jwtIssuers: { issuer: string; jwksUri: string }[];
  /** Paths a RequestAuthentication-backed policy protects, by service (e.g. /secure). */
  protectedPaths: { service: string; namespace: string; path: string }[];
}

type K8sObject = {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export function readMeshFile(paths: string[]): MeshFile {
  const objects: K8sObject[] = [];
  for (const path of paths) {
    for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const value = document.toJS() as K8sObject | null;
      if (value && typeof value === 'object') objects.push(value);
    }
  }
  const of = (kind: string) => objects.filter((object) => object.kind === kind);
  const ambientNamespaces = new Set(
    of('Namespace')
      .filter((object) => object.metadata?.labels?.['istio.io/dataplane-mode'] === 'ambient')
      .map((object) => object.metadata?.name),
  );
  const pods: MeshPod[] = of('Pod').flatMap((object) => {
    const ip = object.status?.['podIP'];
    const node = object.spec?.['nodeName'];
    if (typeof ip !== 'string' || typeof node !== 'string') return [];
    const namespace = object.metadata?.namespace ?? 'default';
    const labels = object.metadata?.labels ?? {};
    const containers =
      (object.spec?.['containers'] as { ports?: { name?: string; containerPort: number }[] }[] | null) ?? [];
    const mode = labels['istio.io/dataplane-mode'];
    return [
      {
        name: object.metadata?.name ?? 'pod',
        namespace,
        ip,
        node,
        serviceAccount: (object.spec?.['serviceAccountName'] as string | undefined) ?? 'default',
        labels,
        ports: containers.flatMap((container) => container.ports ?? []),
        ambient: mode === 'none' ? false : mode === 'ambient' || ambientNamespaces.has(namespace),
      },
    ];
  });
  const services: MeshService[] = of('Service').flatMap((object) => {
    const vip = object.spec?.['clusterIP'];
    if (typeof vip !== 'string') return [];
    const waypoint = object.metadata?.labels?.['istio.io/use-waypoint'];
    return [
      {
        name: object.metadata?.name ?? 'service',
        namespace: object.metadata?.namespace ?? 'default',
        vip,
        ports: ((object.spec?.['ports'] as { port: number; name?: string }[] | undefined) ?? []).map(
          ({ port, name }) => ({ port, ...(name ? { name } : {}) }),
        ),
        ...(waypoint ? { waypoint } : {}),
      },
    ];
  });
  const waypoints: MeshWaypoint[] = of('Gateway')
    .filter((object) => object.spec?.['gatewayClassName'] === 'istio-waypoint')
    .flatMap((object) => {
      const ip = object.metadata?.annotations?.['ambient-ts.io/pod-ip'];
      const node = object.metadata?.annotations?.['ambient-ts.io/node'];
      return ip && node
        ? [{ name: object.metadata?.name ?? 'waypoint', namespace: object.metadata?.namespace ?? 'default', ip, node }]
        : [];
    });
  const jwtIssuers = of('RequestAuthentication').flatMap((object) =>
    ((object.spec?.['jwtRules'] as { issuer?: string; jwksUri?: string }[] | undefined) ?? []).flatMap((rule) =>
      rule.issuer && rule.jwksUri ? [{ issuer: rule.issuer, jwksUri: rule.jwksUri }] : [],
    ),
  );
  const protectedPaths = of('AuthorizationPolicy').flatMap((object) => {
    const targets = (object.spec?.['targetRefs'] as { kind?: string; name?: string }[] | undefined) ?? [];
    const rules =
      (object.spec?.['rules'] as
        | {
            from?: { source?: { notRequestPrincipals?: string[]; requestPrincipals?: string[] } }[];
            to?: { operation?: { paths?: string[] } }[];
          }[]
        | undefined) ?? [];
    const jwtRule = rules.find((rule) =>
      rule.from?.some((from) => from.source?.notRequestPrincipals || from.source?.requestPrincipals),
    );
    const path = jwtRule?.to?.flatMap((to) => to.operation?.paths ?? []).find((candidate) => !candidate.includes('*'));
    return path
      ? targets
          .filter((target) => target.kind === 'Service')
          .map((target) => ({ service: target.name ?? '', namespace: object.metadata?.namespace ?? 'default', path }))
      : [];
  });
  const nodes = [
    ...new Set([
      ...of('Node').map((object) => object.metadata?.name ?? ''),
      ...pods.map((pod) => pod.node),
      ...waypoints.map((waypoint) => waypoint.node),
    ]),
  ]
    .filter(Boolean)
    .sort();
  return { nodes, pods, services, waypoints, jwtIssuers, protectedPaths };
}
