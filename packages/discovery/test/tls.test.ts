// The client over TLS (https://, root from a file or inline PEM), as against istiod's 15012.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';
import { afterEach, expect, it } from 'vitest';
import { DiscoveryStore, storeHandlers } from '../src/index.ts';
import { DeltaXdsClient, addDeltaAdsService, DeltaXdsServer, ztunnelNode } from '@ambient-ts/xds';
import { eventually, upsertWorkloads, workloadAddress } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('connects over TLS to a caller-provided grpc.Server, verifying the root from a file or inline PEM', async () => {
  const ca = createCa({ commonName: 'istiod test root' });
  const leaf = createLeaf({ issuer: ca, dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] });
  const xds = new DeltaXdsServer();
  xds.update(upsertWorkloads(workloadAddress('a', '10.0.0.5')));
  const server = new grpc.Server();
  addDeltaAdsService(server, xds);
  const creds = grpc.ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }],
    false,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  cleanups.push(() => server.forceShutdown());
  const dir = mkdtempSync(join(tmpdir(), 'discovery-tls-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'root-cert.pem'), ca.certPem);

  for (const rootCert of [join(dir, 'root-cert.pem'), ca.certPem]) {
    const store = new DiscoveryStore();
    const client = new DeltaXdsClient({
      address: `https://localhost:${port}`,
      rootCert,
      node: ztunnelNode({ podName: 'z', podNamespace: 'istio-system' }),
      handlers: storeHandlers(store),
    });
    cleanups.push(() => client.close());
    client.start();
    await client.whenSynced();
    expect(store.getWorkload('Kubernetes//Pod/default/a')).toBeDefined();
    client.close();
  }

  // a client trusting another root never connects and reports connection errors instead of throwing
  const other = createCa({ commonName: 'other root' });
  const errors: string[] = [];
  const wrong = new DeltaXdsClient({
    address: `https://localhost:${port}`,
    rootCert: other.certPem,
    node: { id: 'x' },
    handlers: storeHandlers(new DiscoveryStore()),
    connectTimeoutMs: 500,
    backoff: { initialMs: 10, maxMs: 20 },
    hooks: { onConnectionTermination: (reason) => errors.push(reason) },
  });
  cleanups.push(() => wrong.close());
  wrong.start();
  await eventually(() => errors.length > 0, 15_000, 'connection error');
  expect(errors[0]).toBe('ConnectionError');
  expect(wrong.state.state === 'backoff' || wrong.state.state === 'connecting').toBe(true);
});
