// Benchmark: certificate round trips per second — fresh key + CSR, CreateCertificate over real gRPC +
// TLS to our CA server (node authorization on, impersonation), answer checked — with ECDSA P-256 and
// RSA-2048 keys, one and eight requests in flight. Baseline from the same run: the same work in process
// (LocalCa: key, CSR, parse, sign, check; no network). Also the CSR builders alone, which back
// docs/decisions/0002-pki-libraries.md.
//   npm run bench -- certs [seconds-per-row=3]
//   npx node --conditions=ambient-ts-source tools/bench/certs/main.ts [seconds-per-row=3]
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { CaServer, CertificateAuthority, NodeIdentityMap, NodeTokenIssuer } from '@ambient-ts/ca';
import { IstioCaClient, LocalCa, type KeyAlgorithm } from '@ambient-ts/certs';
import { createCsr } from '@ambient-ts/pki';

const seconds = Number(process.argv[2] ?? 3);
const web = 'spiffe://cluster.local/ns/default/sa/web';
const ztunnel = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';

interface Row {
  name: string;
  ops: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(name: string, inFlight: number, op: () => Promise<unknown> | unknown): Promise<Row> {
  const warmUntil = performance.now() + Math.min(500, seconds * 200);
  while (performance.now() < warmUntil) await op();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    name,
    ops: latencies.length / elapsed,
    meanMs: latencies.reduce((sum, value) => sum + value, 0) / latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

function printTable(title: string, rows: Row[], baseline: Row): void {
  console.log(`\n${title}`);
  console.log(`| ${'scenario'.padEnd(52)} | ${'ops/s'.padStart(8)} | mean ms | p50 ms |  p99 ms | vs baseline |`);
  console.log(`|${'-'.repeat(54)}|${'-'.repeat(10)}|---------|--------|---------|-------------|`);
  for (const row of rows) {
    const cells = [
      row.name.padEnd(52),
      row.ops.toFixed(1).padStart(8),
      row.meanMs.toFixed(2).padStart(7),
      row.p50Ms.toFixed(2).padStart(6),
      row.p99Ms.toFixed(2).padStart(7),
      `${(row.ops / baseline.ops).toFixed(2)}×`.padStart(11),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

// One forge key object reused: forge's own (pure JavaScript) RSA signing, for comparison.
function forgePureRsaCsr(
  identity: string,
  forgeKey: forge.pki.rsa.PrivateKey,
  publicKey: forge.pki.rsa.PublicKey,
): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = publicKey;
  csr.setSubject([]);
  csr.setAttributes([
    {
      name: 'extensionRequest',
      extensions: [{ name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: identity }] }],
    },
  ]);
  csr.sign(forgeKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

async function main(): Promise<void> {
  console.log(`certs benchmark: ${seconds} s per row, Node ${process.version}, client and CA in one process`);
  const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
  const issuer = await NodeTokenIssuer.create();
  const server = new CaServer({
    authority,
    tokenVerifier: issuer.verifier(),
    nodeView: new NodeIdentityMap().add('node-a', web),
  });
  await server.listen(0);
  const token = await issuer.issue({ node: 'node-a', identity: ztunnel });
  const clients: IstioCaClient[] = [];
  const grpcClient = (keyAlgorithm: KeyAlgorithm): IstioCaClient => {
    const client = new IstioCaClient({
      address: server.address,
      rootCert: server.rootCertsPem,
      token,
      impersonate: true,
      keyAlgorithm,
    });
    clients.push(client);
    return client;
  };
  const localEc = new LocalCa({ authority });
  const localRsa = new LocalCa({ authority, keyAlgorithm: 'rsa-2048' });

  const baseline = await measure('in-process LocalCa, ECDSA P-256 (baseline)', 1, () => localEc.fetchCertificate(web));
  const rows = [baseline];
  rows.push(await measure('in-process LocalCa, RSA-2048', 1, () => localRsa.fetchCertificate(web)));
  for (const algorithm of ['ec-p256', 'rsa-2048'] as const) {
    const label = algorithm === 'ec-p256' ? 'ECDSA P-256' : 'RSA-2048';
    const client = grpcClient(algorithm);
    rows.push(await measure(`gRPC + TLS round trip, ${label}, 1 in flight`, 1, () => client.fetchCertificate(web)));
    rows.push(await measure(`gRPC + TLS round trip, ${label}, 8 in flight`, 8, () => client.fetchCertificate(web)));
  }
  printTable('Round trips (key + CSR + CreateCertificate + answer check)', rows, baseline);

  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey as KeyObject;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgeKey = forge.pki.privateKeyFromPem(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const forgePublic = forge.pki.publicKeyFromPem(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const csrEc = await measure('CSR, ECDSA P-256 (asn1-csr + node:crypto sign)', 1, () => createCsr(web, ec));
  const csrRows = [
    csrEc,
    await measure('CSR, RSA-2048 (node-forge + node:crypto sign)', 1, () => createCsr(web, rsa.privateKey)),
    await measure('CSR, RSA-2048 (node-forge pure-JS sign)', 1, () => forgePureRsaCsr(web, forgeKey, forgePublic)),
  ];
  printTable('CSR builders alone (key reused)', csrRows, csrEc);

  for (const client of clients) client.close();
  await server.close();
}

await main();
