// Benchmark: authorization decisions per second with 1,000 policies in scope, L4 (ztunnel) and L7
// (waypoint), median µs per decision. Baseline from the same run: the same evaluator with no policies
// (attribute preparation + decision assembly only), so ratios show the cost of the policies themselves.
// "same array" = the caller keeps its selected policy array (the evaluator indexes it on the second use);
// "new array" = a fresh array per decision (full scan, the worst case).
//   npm run bench -- policy [policies=1000] [decisions=20000]
//   npx node --conditions=ambient-ts-source tools/bench/policy/main.ts
import {
  evaluateL4,
  evaluateL7,
  explainL7,
  fromXdsAuthorization,
  parseAuthorizationPolicy,
  type AuthorizationPolicy,
  type L4Connection,
  type RequestAttributes,
} from '@ambient-ts/policy';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length); // l4 | l7 | explain
const POLICIES = Number(args[0] ?? 1000);
const DECISIONS = Number(args[1] ?? 20_000);

const kube = (name: string, spec: Record<string, unknown>): AuthorizationPolicy =>
  parseAuthorizationPolicy({
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: `ns-${name.length % 7}` },
    spec,
  });

/** Realistic L7 policies; none matches the benchmark requests except the very last ALLOW (worst case: full scan). */
function l7Policies(count: number): AuthorizationPolicy[] {
  const out: AuthorizationPolicy[] = [];
  for (let i = 0; i < count - 1; i++) {
    const kind = i % 10;
    if (kind === 0) {
      out.push(
        kube(`deny-${i}`, {
          action: 'DENY',
          rules: [
            {
              from: [{ source: { namespaces: [`blocked-${i}`] } }],
              to: [{ operation: { paths: [`/internal-${i}*`] } }],
            },
          ],
        }),
      );
    } else if (kind < 5) {
      out.push(
        kube(`allow-${i}`, {
          rules: [
            {
              from: [
                { source: { principals: [`cluster.local/ns/team-${i}/sa/api`, `cluster.local/ns/team-${i}/sa/web`] } },
              ],
              to: [{ operation: { methods: ['GET', 'HEAD'], paths: [`/v1/${i}/*`] } }],
            },
            {
              from: [{ source: { requestPrincipals: [`https://issuer-${i}.example/*`] } }],
              to: [{ operation: { methods: ['POST'], paths: [`/v1/${i}/orders/{*}`] } }],
            },
          ],
        }),
      );
    } else if (kind < 8) {
      out.push(
        kube(`allow-${i}`, {
          rules: [
            {
              to: [{ operation: { hosts: [`svc-${i}.example.com`], ports: ['8443'] } }],
              when: [{ key: 'request.headers[x-tenant]', values: [`tenant-${i}`] }],
            },
          ],
        }),
      );
    } else {
      out.push(
        kube(`allow-${i}`, {
          rules: [
            {
              from: [{ source: { ipBlocks: [`172.${i % 250}.0.0/16`] } }],
              when: [{ key: 'request.auth.claims[groups]', values: [`group-${i}`] }],
            },
          ],
        }),
      );
    }
  }
  out.push(
    kube('allow-final', {
      rules: [
        {
          from: [{ source: { namespaces: ['default'] } }],
          to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }],
        },
      ],
    }),
  );
  return out;
}

/** A policy the bench knows to be valid, converted as discovery converts xDS ones. */
function fromXds(input: Parameters<typeof fromXdsAuthorization>[0]): AuthorizationPolicy {
  const result = fromXdsAuthorization(input);
  if (!result.ok) throw new Error(result.message);
  return result.policy;
}

/** ztunnel-style xDS policies (what discovery hands to ztunnel); again only the last ALLOW matches. */
function l4Policies(count: number): AuthorizationPolicy[] {
  const b64 = (a: number, b: number) => Buffer.from([10, a, b, 0]).toString('base64');
  const out: AuthorizationPolicy[] = [];
  for (let i = 0; i < count - 1; i++) {
    const deny = i % 10 === 0;
    out.push(
      fromXds({
        name: `p-${i}`,
        namespace: `ns-${i % 50}`,
        scope: 'WORKLOAD_SELECTOR',
        ...(deny && { action: 'DENY' }),
        rules: [
          {
            clauses: [
              { matches: [{ destinationPorts: [9000 + (i % 100)] }] },
              {
                matches: [
                  {
                    principals: [{ exact: `cluster.local/ns/team-${i}/sa/api` }],
                    notSourceIps: [{ address: b64(i % 250, 1), length: 24 }],
                  },
                  {
                    namespaces: [{ prefix: `team-${i}-` }],
                    serviceAccounts: [{ namespace: `team-${i}`, serviceAccount: 'worker' }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
  }
  out.push(
    fromXds({
      name: 'final',
      namespace: 'default',
      rules: [{ clauses: [{ matches: [{ namespaces: [{ exact: 'default' }] }] }] }],
    }),
  );
  return out;
}

const identities = Array.from({ length: 16 }, (_, i) => `spiffe://cluster.local/ns/default/sa/client-${i}`);
const connections: L4Connection[] = identities.map((sourceIdentity, i) => ({
  sourceIp: `10.${i}.3.4`,
  sourceIdentity,
  destinationIp: '10.200.0.7',
  destinationPort: 8080,
}));
const requests: RequestAttributes[] = identities.map((sourceIdentity, i) => ({
  method: 'GET',
  host: 'api.default.svc.cluster.local',
  path: `/api/items/${i}?page=2`,
  headers: { 'x-tenant': `t-${i}`, 'user-agent': 'bench' },
  sourceIp: `10.${i}.3.4`,
  sourceIdentity,
  destinationIp: '10.96.0.10',
  destinationPort: 8080,
  auth: {
    principal: 'https://issuer.example/alice',
    claims: { iss: 'https://issuer.example', sub: 'alice', groups: ['dev'] },
  },
}));

interface Row {
  name: string;
  policies: number;
  perSecond: number;
  medianUs: number;
  p99Us: number;
}

function measure(name: string, policies: number, count: number, decide: (i: number) => boolean): Row {
  for (let i = 0; i < Math.min(count, 2000); i++) decide(i); // warm up the JIT
  const samples = new Float64Array(count);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    if (!decide(i)) throw new Error(`${name}: expected the decision to allow`);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalUs = Number(process.hrtime.bigint() - start) / 1000;
  samples.sort();
  return {
    name,
    policies,
    perSecond: (count / totalUs) * 1e6,
    medianUs: samples[Math.floor(count / 2)]!,
    p99Us: samples[Math.floor(count * 0.99)]!,
  };
}

const l4 = l4Policies(POLICIES);
const l7 = l7Policies(POLICIES);
const rows: { row: Row; baseline: Row }[] = [];
if (!only || only === 'l4') {
  const l4Base = measure(
    'L4 evaluateL4, no policies',
    0,
    DECISIONS,
    (i) => evaluateL4([], connections[i % 16]!).allowed,
  );
  rows.push({ row: l4Base, baseline: l4Base });
  rows.push({
    row: measure(
      'L4 evaluateL4, same array (indexed)',
      l4.length,
      DECISIONS,
      (i) => evaluateL4(l4, connections[i % 16]!).allowed,
    ),
    baseline: l4Base,
  });
  rows.push({
    row: measure(
      'L4 evaluateL4, new array each time (full scan)',
      l4.length,
      DECISIONS / 4,
      (i) => evaluateL4(l4.slice(), connections[i % 16]!).allowed,
    ),
    baseline: l4Base,
  });
}
if (!only || only === 'l7' || only === 'explain') {
  const l7Base = measure('L7 evaluateL7, no policies', 0, DECISIONS, (i) => evaluateL7([], requests[i % 16]!).allowed);
  rows.push({ row: l7Base, baseline: l7Base });
  if (only !== 'explain') {
    rows.push({
      row: measure(
        'L7 evaluateL7, same array (indexed)',
        l7.length,
        DECISIONS,
        (i) => evaluateL7(l7, requests[i % 16]!).allowed,
      ),
      baseline: l7Base,
    });
    rows.push({
      row: measure(
        'L7 evaluateL7, new array each time (full scan)',
        l7.length,
        DECISIONS / 4,
        (i) => evaluateL7(l7.slice(), requests[i % 16]!).allowed,
      ),
      baseline: l7Base,
    });
  }
  if (only !== 'l7') {
    const count = Math.max(200, Math.floor(DECISIONS / 50));
    rows.push({
      row: measure(
        'L7 explainL7 (full trace)',
        l7.length,
        count,
        (i) => explainL7(l7, requests[i % 16]!).decision.allowed,
      ),
      baseline: l7Base,
    });
  }
}

const fmt = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(
  `node ${process.version}, ${POLICIES} policies in scope, ${DECISIONS} decisions per row (worst case: only the last ALLOW matches)\n`,
);
console.log('| scenario | policies | decisions/s | median µs | p99 µs | × baseline (median) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const { row, baseline } of rows) {
  console.log(
    `| ${row.name} | ${row.policies} | ${fmt(row.perSecond, 0)} | ${fmt(row.medianUs, 2)} | ${fmt(row.p99Us, 2)} | ${fmt(row.medianUs / baseline.medianUs, 1)} |`,
  );
}
