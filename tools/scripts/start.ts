// `npm start`: will bring up a whole local ambient mesh (issue 8). Until the local mesh exists it says
// plainly what will be there, and exits 0.
const lines = [
  'ambient-ts — the Istio ambient data plane in TypeScript',
  '',
  `Running on Node ${process.versions.node} (pinned through the npm "node" package).`,
  '',
  'The local mesh is not built yet. When it is, `npm start` will start, on this machine:',
  '  - a control plane serving delta xDS (15010/15012) and the Istio CA API from examples/mesh.yaml',
  '  - one ztunnel per node (HBONE on 15008, metrics on 15020, admin on 15000, readiness on 15021)',
  '  - a waypoint enforcing L7 policy and HTTPRoute routing',
  '  - sample echo workloads and clients sending traffic, with a live summary',
  '',
  'What works today: @ambient-ts/spiffe (SPIFFE IDs, trust bundles, X.509-SVID verification).',
  'Run `npm test` to see it tested; see README.md and ARCHITECTURE.md for the plan.',
];
console.log(lines.join('\n'));
