// The static mesh the direct tests share: two nodes on loopback (node-a 127.0.3.x, node-b 127.0.4.x).
export const meshYaml = `
workloads:
- uid: cluster1//v1/Pod/default/client
  name: client
  namespace: default
  serviceAccount: client
  trustDomain: cluster.local
  workloadIps: ["127.0.3.2"]
  protocol: HBONE
  node: node-a
  workloadName: client
  canonicalName: client
  canonicalRevision: v1
  clusterId: cluster1
- uid: cluster1//v1/Pod/default/server-a
  name: server-a
  namespace: default
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["127.0.3.1"]
  protocol: HBONE
  node: node-a
  workloadName: server
  canonicalName: server
  clusterId: cluster1
  services:
    default/server.default.svc.cluster.local: {80: 8080}
- uid: cluster1//v1/Pod/default/server-b
  name: server-b
  namespace: default
  serviceAccount: server
  trustDomain: cluster.local
  workloadIps: ["127.0.4.1"]
  protocol: HBONE
  node: node-b
  workloadName: server
  canonicalName: server
  clusterId: cluster1
  services:
    default/server.default.svc.cluster.local: {80: 8080}
- uid: cluster1//v1/Pod/default/plain
  name: plain
  namespace: default
  serviceAccount: plain
  trustDomain: cluster.local
  workloadIps: ["127.0.4.5"]
  protocol: TCP
  node: node-b
- uid: cluster1//v1/Pod/guarded/guarded
  name: guarded
  namespace: guarded
  serviceAccount: guarded
  trustDomain: cluster.local
  workloadIps: ["127.0.4.2"]
  protocol: HBONE
  node: node-b
- uid: cluster1//v1/Pod/default/empty-backend
  name: empty-backend
  namespace: default
  serviceAccount: empty
  trustDomain: cluster.local
  workloadIps: ["127.0.3.9"]
  protocol: HBONE
  node: node-a
  status: Unhealthy
  services:
    default/empty.default.svc.cluster.local: {80: 8080}
services:
- name: server
  namespace: default
  hostname: server.default.svc.cluster.local
  vips: ["/127.10.3.1"]
  ports: {80: 8080}
- name: empty
  namespace: default
  hostname: empty.default.svc.cluster.local
  vips: ["/127.10.3.9"]
  ports: {80: 8080}
policies:
- name: only-other
  namespace: guarded
  scope: Namespace
  action: Allow
  rules:
  - - - principals:
        - Exact: cluster.local/ns/default/sa/other
`;
