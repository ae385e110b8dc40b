// Benchmark: apply 10k workloads + 1k services + 1k policies through the xDS handlers (decode,
// validate, convert, index) and measure routing lookups per second. Baselines from the same run:
// protobufjs decode alone for the apply, a bare index lookup for routing.
//   npx node --conditions=ambient-ts-source tools/bench/discovery/apply.ts [workloads=10000]
import { DiscoveryStore, routeOutbound, storeHandlers } from '@ambient-ts/discovery';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  decodeResource,
  encodeResource,
  type XdsResource,
} from '@ambient-ts/istio-api';

const WORKLOADS = Number(process.argv[2] ?? 10_000);
const SERVICES = Math.max(1, Math.floor(WORKLOADS / 10));
const POLICIES = SERVICES;

const ip = (n: number, base = 10) => Buffer.from([base, (n >> 16) & 255, (n >> 8) & 255, n & 255]).toString('base64');
const ipText = (n: number, base = 10) => `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function resources(): { addresses: XdsResource[]; policies: XdsResource[] } {
  const addresses: XdsResource[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const json = {
      service: {
        name: `svc-${s}`,
        namespace: `ns-${s % 50}`,
        hostname: `svc-${s}.ns-${s % 50}.svc.cluster.local`,
        addresses: [{ address: ip(s, 96) }],
        ports: [{ servicePort: 80, targetPort: 8080 }],
      },
    };
    addresses.push({
      name: `ns-${s % 50}/svc-${s}.ns-${s % 50}.svc.cluster.local`,
      version: '1',
      resource: { typeUrl: ADDRESS_TYPE_URL, value: encodeResource(ADDRESS_TYPE_URL, json) },
    });
  }
  for (let w = 0; w < WORKLOADS; w++) {
    const s = w % SERVICES;
    const json = {
      workload: {
        uid: `Kubernetes//Pod/ns-${s % 50}/pod-${w}`,
        name: `pod-${w}`,
        namespace: `ns-${s % 50}`,
        addresses: [ip(w + 1)],
        tunnelProtocol: 'HBONE' as const,
        serviceAccount: `sa-${s}`,
        node: `node-${w % 100}`,
        services: {
          [`ns-${s % 50}/svc-${s}.ns-${s % 50}.svc.cluster.local`]: { ports: [{ servicePort: 80, targetPort: 8080 }] },
        },
        authorizationPolicies: [`ns-${s % 50}/policy-${s}`],
        locality: { region: 'r1', zone: `z${w % 3}` },
      },
    };
    addresses.push({
      name: json.workload.uid,
      version: '1',
      resource: { typeUrl: ADDRESS_TYPE_URL, value: encodeResource(ADDRESS_TYPE_URL, json) },
    });
  }
  const policies: XdsResource[] = [];
  for (let p = 0; p < POLICIES; p++) {
    const json = {
      name: `policy-${p}`,
      namespace: `ns-${p % 50}`,
      scope: 'WORKLOAD_SELECTOR' as const,
      rules: [
        {
          clauses: [
            {
              matches: [
                { principals: [{ exact: `cluster.local/ns/ns-${p % 50}/sa/sa-${p}` }], destinationPorts: [8080] },
              ],
            },
          ],
        },
      ],
    };
    policies.push({
      name: `ns-${p % 50}/policy-${p}`,
      version: '1',
      resource: { typeUrl: AUTHORIZATION_TYPE_URL, value: encodeResource(AUTHORIZATION_TYPE_URL, json) },
    });
  }
  return { addresses, policies };
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const { addresses, policies } = resources();
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;

// baseline: decoding the same bytes only
let t = process.hrtime.bigint();
for (const r of addresses) decodeResource(ADDRESS_TYPE_URL, r.resource!.value);
for (const r of policies) decodeResource(AUTHORIZATION_TYPE_URL, r.resource!.value);
const decodeMs = ms(t);

const store = new DiscoveryStore();
const handlers = storeHandlers(store);
t = process.hrtime.bigint();
const a = await handlers[ADDRESS_TYPE_URL]!.handle({ typeUrl: ADDRESS_TYPE_URL, resources: addresses, removed: [] });
const p = await handlers[AUTHORIZATION_TYPE_URL]!.handle({
  typeUrl: AUTHORIZATION_TYPE_URL,
  resources: policies,
  removed: [],
});
const applyMs = ms(t);
if ((a.rejected?.length ?? 0) + (p.rejected?.length ?? 0) > 0) throw new Error('unexpected rejections');
globalThis.gc?.();
const rssAfter = process.memoryUsage().rss;

// routing
const source = store.getWorkload('Kubernetes//Pod/ns-0/pod-0')!;
let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const N = 200_000;
function rate(fn: (i: number) => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  return N / (ms(start) / 1000);
}
const baseline = rate((i) => store.findWorkloadByAddress('', ipText((i % WORKLOADS) + 1)));
const podIp = rate((i) =>
  routeOutbound(store, { source, destination: { ip: ipText((i % WORKLOADS) + 1), port: 8080 } }, { random }),
);
const vip = rate((i) =>
  routeOutbound(store, { source, destination: { ip: ipText(i % SERVICES, 96), port: 80 } }, { random }),
);
const unknown = rate(() => routeOutbound(store, { source, destination: { ip: '192.0.2.1', port: 443 } }, { random }));
const policyLookup = rate((i) =>
  store.policiesFor(store.getWorkload(`Kubernetes//Pod/ns-${(i % SERVICES) % 50}/pod-${i % WORKLOADS}`) ?? source),
);

const row = (name: string, value: string, ratio: string) =>
  `| ${name.padEnd(44)} | ${value.padStart(16)} | ${ratio.padStart(12)} |`;
console.log(
  `discovery bench: ${WORKLOADS} workloads, ${SERVICES} services, ${POLICIES} policies (node ${process.version})`,
);
console.log(row('case', 'result', 'vs baseline'));
console.log(row('-'.repeat(44), '-'.repeat(16), '-'.repeat(12)));
console.log(row('decode only (baseline)', `${decodeMs.toFixed(0)} ms`, '1.00x'));
console.log(
  row('apply via handlers (decode+validate+index)', `${applyMs.toFixed(0)} ms`, `${(applyMs / decodeMs).toFixed(2)}x`),
);
console.log(row('RSS growth after apply', `${((rssAfter - rssBefore) / 1048576).toFixed(0)} MiB`, ''));
console.log(row('index lookup network/ip (baseline)', `${(baseline / 1e6).toFixed(2)} M/s`, '1.00x'));
console.log(
  row('routeOutbound pod IP (HBONE direct)', `${(podIp / 1e6).toFixed(2)} M/s`, `${(podIp / baseline).toFixed(2)}x`),
);
console.log(
  row('routeOutbound service VIP (LB pick)', `${(vip / 1e6).toFixed(2)} M/s`, `${(vip / baseline).toFixed(2)}x`),
);
console.log(
  row(
    'routeOutbound unknown (passthrough)',
    `${(unknown / 1e6).toFixed(2)} M/s`,
    `${(unknown / baseline).toFixed(2)}x`,
  ),
);
console.log(
  row('policiesFor(workload)', `${(policyLookup / 1e6).toFixed(2)} M/s`, `${(policyLookup / baseline).toFixed(2)}x`),
);
