// Static LocalConfig YAML: ztunnel's examples/localhost.yaml shape loads; errors name file:line and field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DiscoveryStore,
  applyLocalConfig,
  loadLocalConfigFile,
  parseLocalConfig,
  routeOutbound,
  workloadIdentity,
} from '../src/index.ts';
import { AUTHORIZATION_TYPE_URL, decodeResource, encodeResource } from '@ambient-ts/istio-api';
import { toXdsAuthorization, type AuthorizationPolicy } from '@ambient-ts/policy';

/** A stored policy back in the proto3 JSON form xDS delivers. */
const wire = (policy: AuthorizationPolicy) => toXdsAuthorization(policy, { rootNamespace: '' })!;

// The shape of Istio ztunnel's examples/localhost.yaml (two local workloads, an ALLOW policy, two services).
const LOCALHOST = `# local workloads
workloads:
- uid: cluster1//v1/Pod/default/local
  name: local
  namespace: default
  serviceAccount: default
  workloadIps: ["127.0.0.1"]
  protocol: HBONE
  node: local
  network: ""
  services:
    "default/example.com":
      80: 8080
    "default/example2.com":
      80: 8080
- uid: cluster1//v1/Pod/default/local-tcp
  name: local-tcp
  namespace: default
  serviceAccount: default
  workloadIps: ["127.0.0.2"]
  protocol: TCP
  node: local
  network: ""
  services:
    "default/example.com":
      80: 8080
    "default/example2.com":
      80: 8080
policies:
  - action: Allow
    rules:
    - - - notDestinationPorts:
          - 9999
    name: deny-9999
    namespace: default
    scope: Namespace
services:
- name: local
  namespace: default
  hostname: example.com
  vips:
    - /127.10.0.1
  ports:
    80: 8080
  subjectAltNames:
   - spiffe://cluster.local/ns/default/sa/local
- name: remote
  namespace: default
  hostname: example2.com
  vips:
    - remote/127.10.0.2
  ports:
    80: 8080
`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('LocalConfig YAML', () => {
  it("loads ztunnel's examples/localhost.yaml shape without xDS defaults", () => {
    const config = parseLocalConfig(LOCALHOST, 'localhost.yaml');
    expect(config.workloads).toHaveLength(2);
    const local = config.workloads[0]!;
    expect(local).toMatchObject({
      uid: 'cluster1//v1/Pod/default/local',
      protocol: 'HBONE',
      node: 'local',
      trustDomain: '',
      clusterId: '',
      capacity: 1,
    });
    expect(workloadIdentity(local)).toBe('spiffe:///ns/default/sa/default');
    expect(local.services.map((s) => [s.service, [...s.ports]])).toEqual([
      ['default/example.com', [[80, 8080]]],
      ['default/example2.com', [[80, 8080]]],
    ]);
    expect(config.services[1]!.vips).toEqual([{ network: 'remote', address: '127.10.0.2' }]);
    // policies are converted like xDS ones; in proto3 JSON form (ALLOW omitted as the default)
    expect(config.policies.map((policy) => policy.problems)).toEqual([[]]);
    expect(config.policies.map(wire)).toEqual([
      {
        name: 'deny-9999',
        namespace: 'default',
        scope: 'NAMESPACE',
        rules: [{ clauses: [{ matches: [{ notDestinationPorts: [9999] }] }] }],
      },
    ]);
    expect(
      decodeResource(AUTHORIZATION_TYPE_URL, encodeResource(AUTHORIZATION_TYPE_URL, wire(config.policies[0]!))),
    ).toEqual(wire(config.policies[0]!));

    const store = new DiscoveryStore();
    applyLocalConfig(store, config);
    const source = store.findLocalWorkload({
      node: 'local',
      namespace: 'default',
      name: 'local',
      serviceAccount: 'default',
    });
    expect(
      routeOutbound(store, { source, destination: { ip: '127.10.0.1', port: 80 } }, { random: () => 0 }),
    ).toMatchObject({
      kind: 'hbone',
      target: { ip: '127.0.0.1', port: 15008 },
      authority: '127.0.0.1:8080',
    });
    expect(routeOutbound(store, { source, destination: { ip: '127.0.0.2', port: 80 } })).toMatchObject({
      kind: 'tcp',
      target: { ip: '127.0.0.2', port: 80 },
    });
    expect(store.policiesFor(source!)).toHaveLength(1);
  });

  it('reads every workload, service and policy field', () => {
    const config = parseLocalConfig(`
workloads:
- uid: u
  namespace: ns
  workloadIps: ["10.0.0.1", "fd00::1"]
  waypoint: { destination: "ns/wp.example", hboneMtlsPort: 15008 }
  networkGateway: { destination: "net/10.0.0.100", hboneMtlsPort: 15009 }
  networkMode: HostNetwork
  status: Unhealthy
  workloadType: deployment
  applicationTunnel: { protocol: PROXY, port: 15088 }
  locality: { region: r, zone: z, subzone: s }
  authorizationPolicies: [ns/p]
  capacity: 4
services:
- name: s
  namespace: ns
  hostname: s.example
  vips: [/10.96.0.1, net/10.10.0.0/16]
  ports: { 80: 0 }
  loadBalancer: { routingPreferences: [Network, Region], mode: Failover, healthPolicy: AllowAll }
  ipFamilies: Dual
  visibility: Namespace
  canonical: true
policies:
- name: p
  namespace: ns
  scope: WorkloadSelector
  action: Deny
  dryRun: true
  rules:
  - - - principals: [{Exact: "cluster.local/ns/a/sa/b"}, Presence, {Presence: []}]
        notNamespaces: [{Prefix: kube-}]
        serviceAccounts: [{namespace: a, serviceAccount: b}]
        sourceIps: ["10.0.0.0/8", "fd00::1"]
        destinationPorts: [80]
    - []
`);
    const w = config.workloads[0]!;
    expect(w.workloadIps).toEqual(['10.0.0.1', 'fd00::1']);
    expect(w.waypoint).toEqual({
      destination: { kind: 'hostname', namespace: 'ns', hostname: 'wp.example' },
      hboneMtlsPort: 15008,
    });
    expect(w.networkGateway).toEqual({
      destination: { kind: 'address', network: 'net', address: '10.0.0.100' },
      hboneMtlsPort: 15009,
    });
    expect(w).toMatchObject({
      networkMode: 'HostNetwork',
      status: 'Unhealthy',
      capacity: 4,
      applicationTunnel: { protocol: 'PROXY', port: 15088 },
    });
    const s = config.services[0]!;
    expect(s.cidrVips).toEqual([{ network: 'net', address: '10.10.0.0', prefixLength: 16 }]);
    expect(s).toMatchObject({
      ipFamilies: 'Dual',
      visibility: 'Namespace',
      canonical: true,
      ports: [{ servicePort: 80, targetPort: 0 }],
    });
    expect(wire(config.policies[0]!)).toEqual({
      name: 'p',
      namespace: 'ns',
      scope: 'WORKLOAD_SELECTOR',
      action: 'DENY',
      dryRun: true,
      rules: [
        {
          clauses: [
            {
              matches: [
                {
                  principals: [{ exact: 'cluster.local/ns/a/sa/b' }, { presence: {} }, { presence: {} }],
                  notNamespaces: [{ prefix: 'kube-' }],
                  serviceAccounts: [{ namespace: 'a', serviceAccount: 'b' }],
                  sourceIps: [
                    { address: 'CgAAAA==', length: 8 },
                    { address: '/QAAAAAAAAAAAAAAAAAAAQ==', length: 128 },
                  ],
                  destinationPorts: [80],
                },
              ],
            },
            {},
          ],
        },
      ],
    });
  });

  it('enforces a policy the converter refuses fail-closed, with the problem named', () => {
    const config = parseLocalConfig(
      'policies:\n- {name: "", namespace: n, scope: Namespace, action: Deny, rules: [[[{destinationPorts: [1]}]]]}\n',
      'cfg.yaml',
    );
    const [policy] = config.policies;
    expect(policy).toMatchObject({
      key: 'n/',
      action: 'DENY',
      attachment: { kind: 'xds', scope: 'NAMESPACE' },
      rules: [{ clauses: [] }],
      problems: [{ field: 'name', message: 'name must be a non-empty string', severity: 'error' }],
    });
    const store = new DiscoveryStore();
    applyLocalConfig(store, config);
    // the DENY meant for port 1 now denies everything in namespace n
    expect(store.policiesFor({ namespace: 'n', authorizationPolicies: [] })).toEqual([policy]);
    expect(store.snapshot().policies[0]!.problems).toEqual([
      'name: name must be a non-empty string (enforced as a DENY of every connection it can select (fail-closed))',
    ]);
  });

  it.each([
    [
      'workloads:\n- namespace: a\n  workloadIps: ["1.2.3"]\n',
      'cfg.yaml:3:17: workloads[0].workloadIps[0]: not an IP address',
    ],
    ['workloads:\n- name: a\n  workloadIps: []\n', 'cfg.yaml:2:3: workloads[0]: missing required field namespace'],
    [
      'workloads:\n- namespace: a\n  workloadIps: []\n  protocol: QUIC\n',
      'cfg.yaml:4:13: workloads[0].protocol: expected one of TCP, HBONE, got "QUIC"',
    ],
    [
      'workloads:\n- namespace: a\n  workloadIps: []\n  colour: red\n',
      'cfg.yaml:4:3: workloads[0].colour: unknown field',
    ],
    [
      'services:\n- name: s\n  namespace: n\n  hostname: h\n  vips: ["10.0.0.1"]\n  ports: {}\n',
      'cfg.yaml:5:10: services[0].vips[0]: expected "<network>/<ip>"',
    ],
    [
      'services:\n- name: s\n  namespace: n\n  hostname: h\n  vips: ["net/10.0.0.0/33"]\n  ports: {}\n',
      'cfg.yaml:5:10: services[0].vips[0]: invalid CIDR VIP "net/10.0.0.0/33"',
    ],
    [
      'services:\n- name: s\n  namespace: n\n  hostname: h\n  vips: ["net/10.0.0.0/08"]\n  ports: {}\n',
      'services[0].vips[0]: invalid CIDR VIP',
    ],
    [
      'policies:\n- name: p\n  namespace: n\n  scope: Cluster\n  action: Allow\n',
      'cfg.yaml:4:10: policies[0].scope: expected one of Global, Namespace, WorkloadSelector',
    ],
    [
      'policies:\n- {name: p, namespace: n, scope: Global, action: Allow, rules: [[[{principals: [{Regex: x}]}]]]}\n',
      'principals[0]["Regex"]: expected Exact, Prefix, Suffix or Presence',
    ],
    ['workloads: [\n', 'cfg.yaml:2:1: invalid YAML'],
    ['bogus: 1\n', 'cfg.yaml:1:1: bogus: unknown field'],
  ])('refuses bad input with file:line and field (%#)', (text, message) => {
    expect(() => parseLocalConfig(text, 'cfg.yaml')).toThrow(
      expect.objectContaining({ code: 'STATIC_CONFIG_INVALID', message: expect.stringContaining(message) }),
    );
  });

  it('loads from a file and reports unreadable files', async () => {
    dir = mkdtempSync(join(tmpdir(), 'discovery-static-'));
    const file = join(dir, 'localhost.yaml');
    writeFileSync(file, LOCALHOST);
    expect((await loadLocalConfigFile(file)).services).toHaveLength(2);
    await expect(loadLocalConfigFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'STATIC_CONFIG_READ' });
  });
});
