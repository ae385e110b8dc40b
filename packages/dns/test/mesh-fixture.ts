// A workload store for the DNS tests, written as ztunnel's static config (the shape LOCAL_XDS takes).
import { DiscoveryStore, applyLocalConfig, parseLocalConfig, type Workload } from '@ambient-ts/discovery';

const yaml = `
workloads:
  - { uid: "Kubernetes//Pod/ns1/client", name: client, namespace: ns1, serviceAccount: client, trustDomain: cluster.local, workloadIps: ["10.0.0.1"], network: nw1 }
  - { uid: "Kubernetes//Pod/ns1/h0", name: h0, namespace: ns1, serviceAccount: h, trustDomain: cluster.local, workloadIps: ["30.30.30.30", "2001:db8::30"], network: nw1, services: { "ns1/headless.ns1.svc.cluster.local": { 80: 80 } } }
  - { uid: "Kubernetes//Pod/ns1/h1", name: h1, namespace: ns1, serviceAccount: h, trustDomain: cluster.local, workloadIps: ["31.31.31.31", "2001:db8::31"], network: nw1, services: { "ns1/headless.ns1.svc.cluster.local": { 80: 80 } } }
  - { uid: "Kubernetes//Pod/ns1/h2", name: h2, namespace: ns1, serviceAccount: h, trustDomain: cluster.local, workloadIps: ["32.32.32.32"], network: nw1, status: Unhealthy, services: { "ns1/headless.ns1.svc.cluster.local": { 80: 80 } } }
  - { uid: "Kubernetes//Pod/ns1/h6", name: h6, namespace: ns1, serviceAccount: h, trustDomain: cluster.local, workloadIps: ["33.33.33.33", "2001:db8::33"], network: nw1, services: { "ns1/headless-ipv6.ns1.svc.cluster.local": { 80: 80 } } }
  - { uid: "Kubernetes//Pod/ns1/ext", name: ext, namespace: ns1, serviceAccount: e, trustDomain: cluster.local, workloadIps: ["34.34.34.34"], network: nw1, services: { "ns1/headless.example.com": { 80: 80 } } }
services:
  - { name: productpage, namespace: ns1, hostname: productpage.ns1.svc.cluster.local, vips: ["nw1/9.9.9.9"], ports: { 80: 80 } }
  - { name: example, namespace: ns2, hostname: example.ns2.svc.cluster.local, vips: ["nw1/10.10.10.10"], ports: { 80: 80 } }
  - { name: details, namespace: ns2, hostname: details.ns2.svc.cluster.remote, vips: ["nw1/11.11.11.11", "nw1/12.12.12.12", "nw1/13.13.13.13", "nw1/14.14.14.14"], ports: { 80: 80 } }
  - { name: google, namespace: ns1, hostname: www.google.com, vips: ["nw1/1.1.1.1"], ports: { 80: 80 } }
  - { name: dual, namespace: ns1, hostname: dual.localhost, vips: ["nw1/2.2.2.2", "nw1/2001:db8:0:0:0:ff00:42:8329"], ports: { 80: 80 } }
  - { name: ipv4, namespace: ns1, hostname: ipv4.localhost, vips: ["nw1/2.2.2.3"], ports: { 80: 80 } }
  - { name: ipv6, namespace: ns1, hostname: ipv6.localhost, vips: ["nw1/2001:db8::6"], ports: { 80: 80 } }
  - { name: v4only, namespace: ns1, hostname: v4only.ns1.svc.cluster.local, vips: ["nw1/2.2.2.4", "nw1/2001:db8::4"], ipFamilies: IPv4, ports: { 80: 80 } }
  - { name: wildcard, namespace: ns1, hostname: "*.wildcard", vips: ["nw1/10.10.10.10"], ports: { 80: 80 } }
  - { name: b-wildcard, namespace: ns1, hostname: "*.b.wildcard", vips: ["nw1/11.11.11.11"], ports: { 80: 80 } }
  - { name: mesh-wildcard, namespace: ns1, hostname: "*.svc.mesh.company.net", vips: ["nw1/10.1.2.3"], ports: { 80: 80 } }
  - { name: nw2-only, namespace: ns1, hostname: nw2-only.ns1.svc.cluster.local, vips: ["nw2/21.21.21.20"], ports: { 80: 80 } }
  - { name: both-networks, namespace: ns1, hostname: both-networks.ns1.svc.cluster.local, vips: ["nw1/21.21.21.21", "nw2/21.21.21.22"], ports: { 80: 80 } }
  - { name: headless, namespace: ns1, hostname: headless.ns1.svc.cluster.local, vips: [], ports: { 80: 80 } }
  - { name: headless-ipv6, namespace: ns1, hostname: headless-ipv6.ns1.svc.cluster.local, vips: [], ipFamilies: IPv6, ports: { 80: 80 } }
  - { name: headless-ext, namespace: ns1, hostname: headless.example.com, vips: [], ports: { 80: 80 } }
  - { name: preferred, namespace: preferred-ns, hostname: preferred.io, vips: ["nw1/10.10.10.211"], ports: { 80: 80 } }
  - { name: preferred, namespace: ns3, hostname: preferred.io, vips: ["nw1/10.10.10.212"], ports: { 80: 80 } }
  - { name: everywhere, namespace: ns3, hostname: everywhere.io, vips: ["nw1/10.10.10.113"], ports: { 80: 80 } }
  - { name: everywhere, namespace: ns1, hostname: everywhere.io, vips: ["nw1/10.10.10.112"], ports: { 80: 80 } }
  - { name: canonical, namespace: ns3, hostname: canonical.svc, vips: ["nw1/10.10.10.140"], ports: { 80: 80 } }
  - { name: canonical, namespace: ns4, hostname: canonical.svc, vips: ["nw1/10.10.10.141"], canonical: true, ports: { 80: 80 } }
  - { name: canonical, namespace: ns3, hostname: canonical.with.local, vips: ["nw1/10.10.10.151"], canonical: true, ports: { 80: 80 } }
  - { name: canonical, namespace: ns1, hostname: canonical.with.local, vips: ["nw1/10.10.10.150"], ports: { 80: 80 } }
  - { name: private, namespace: ns2, hostname: private.ns2.svc.cluster.local, vips: ["nw1/10.10.10.160"], visibility: Namespace, ports: { 80: 80 } }
`;

export function meshStore(): DiscoveryStore {
  const store = new DiscoveryStore();
  applyLocalConfig(store, parseLocalConfig(yaml, 'dns-fixture.yaml'));
  return store;
}

export function clientOf(store: DiscoveryStore): Workload {
  return store.getWorkload('Kubernetes//Pod/ns1/client')!;
}
