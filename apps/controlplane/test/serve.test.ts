// `serve` over real gRPC: xDS and the Istio CA on the plaintext and the TLS port, token authentication,
// node authorization from the YAML's placement, and the YAML being followed (pushes, refused edits).
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeTokenIssuer } from '@ambient-ts/ca';
import { IstioCaClient } from '@ambient-ts/certs';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@ambient-ts/istio-api';
import type { DeltaXdsClient } from '@ambient-ts/xds';
import { afterEach, describe, expect, it } from 'vitest';
import { L7_TYPE_URL } from '../src/translate/l7.ts';
import { eventually, exampleYaml, tempMesh, xdsClient, type TempMesh } from './serve-support.ts';

const id = (ns: string, sa: string): string => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

let mesh: TempMesh | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await mesh?.cleanup();
  mesh = undefined;
});

function track<T extends { close(): void }>(client: T): T {
  clients.push(client);
  return client;
}

function connect(address: string, options: Parameters<typeof xdsClient>[1] = {}): ReturnType<typeof xdsClient> {
  const made = xdsClient(address, options);
  track(made.client as DeltaXdsClient);
  return made;
}

describe('controlplane serve: xDS', () => {
  it('serves the example to a node token over plaintext and over TLS (root-cert.pem), under all three type URLs', async () => {
    mesh = await tempMesh();
    const { cp } = mesh;
    const expected = cp.served().translation;
    const plain = connect(cp.addresses.plaintext, { token: cp.tokenFor('node-a')! });
    // as a ztunnel with AUTH_TOKEN and XDS_ROOT_CA pointing into the state directory
    const tokenFile = join(cp.stateDir, 'tokens/node-b');
    const tls = connect(cp.addresses.tls, { token: () => readFileSync(tokenFile, 'utf8'), rootCert: cp.rootCertPath });
    const named = connect(`https://localhost:${cp.ports.tls}`, {
      token: cp.tokenFor('node-b')!,
      rootCert: readFileSync(join(cp.stateDir, 'root-cert.pem'), 'utf8'),
      serverName: 'istiod.istio-system.svc',
    });
    await Promise.all([plain.client.whenSynced(), tls.client.whenSynced(), named.client.whenSynced()]);
    for (const { recorder } of [plain, tls, named]) {
      expect(recorder.names(ADDRESS_TYPE_URL)).toEqual(expected.addresses.map((a) => a.name).sort());
      expect(recorder.names(AUTHORIZATION_TYPE_URL)).toEqual(['default/deny-blocked']);
      expect(recorder.names(L7_TYPE_URL)).toEqual(expected.l7.map((r) => r.name).sort());
    }
    expect(plain.recorder.names(ADDRESS_TYPE_URL)).toContain('Kubernetes//Pod/default/echo-v1');
    const streams = cp.xds.streams().map((s) => (s.caller as { node?: string }).node);
    expect(streams.sort()).toEqual(['node-a', 'node-b', 'node-b']);
  });

  it('refuses xDS streams without a token, with a forged one, and with the wrong cluster id (UNAUTHENTICATED)', async () => {
    mesh = await tempMesh();
    const { cp } = mesh;
    const forged = await (
      await NodeTokenIssuer.create()
    ).issue({ node: 'node-a', identity: id('istio-system', 'ztunnel') });
    const none = connect(cp.addresses.plaintext);
    const bad = connect(cp.addresses.tls, { token: forged, rootCert: cp.rootCertPath });
    const cluster = connect(cp.addresses.plaintext, { token: cp.tokenFor('node-a')!, clusterId: 'elsewhere' });
    for (const { terminations } of [none, bad, cluster])
      await eventually(() => terminations.length > 0, 'the stream to be refused');
    expect(none.terminations[0]).toMatch(/UNAUTHENTICATED|16/);
    expect(none.terminations[0]).toContain('no "authorization: Bearer <token>" header');
    expect(bad.terminations[0]).toContain('rejected');
    expect(cluster.terminations[0]).toContain('cluster');
    for (const { recorder } of [none, bad, cluster]) expect(recorder.updates).toEqual([]);
    expect(mesh.logs.messages('warn').filter((m) => m.startsWith('xDS stream refused')).length).toBeGreaterThanOrEqual(
      3,
    );
  });
});

describe('controlplane serve: CA with node authorization', () => {
  it("node-a's token obtains identities running on node-a, and is refused one that only runs on node-b", async () => {
    mesh = await tempMesh();
    const { cp } = mesh;
    for (const address of [cp.addresses.plaintext, cp.addresses.tls]) {
      const ca = track(
        new IstioCaClient({ address, rootCert: cp.rootCertPath, token: cp.tokenFor('node-a')!, impersonate: true }),
      );
      const cert = await ca.fetchCertificate(id('default', 'client'));
      expect(cert.identity).toBe(id('default', 'client'));
      expect(cert.rootCertsPem).toBe(cp.rootCertPem);
      // echo runs on both nodes
      await expect(ca.fetchCertificate(id('default', 'echo'))).resolves.toMatchObject({
        identity: id('default', 'echo'),
      });
      // outside-client runs on node-b only
      await expect(ca.fetchCertificate(id('outside', 'default'))).rejects.toMatchObject({
        code: 'CA_PERMISSION_DENIED',
        reason: 'DENIED_NOT_ON_NODE',
      });
      await expect(ca.fetchCertificate(id('default', 'waypoint'))).rejects.toMatchObject({
        code: 'CA_PERMISSION_DENIED',
      });
    }
    const nodeB = track(
      new IstioCaClient({ address: cp.addresses.plaintext, token: cp.tokenFor('node-b')!, impersonate: true }),
    );
    await expect(nodeB.fetchCertificate(id('outside', 'default'))).resolves.toMatchObject({
      identity: id('outside', 'default'),
    });
    // the waypoint pod runs on node-b, so node-b's ztunnel serves its identity
    await expect(nodeB.fetchCertificate(id('default', 'waypoint'))).resolves.toMatchObject({
      identity: id('default', 'waypoint'),
    });
    expect(mesh.logs.messages('warn').some((m) => m.includes('certificate refused'))).toBe(true);
  });

  it('a waypoint token obtains only the waypoint identity, and a CA call without a token is UNAUTHENTICATED', async () => {
    mesh = await tempMesh();
    const { cp } = mesh;
    const token = cp.waypointTokenFor('default', 'waypoint')!;
    expect(readFileSync(join(cp.stateDir, 'tokens/waypoint-default-waypoint'), 'utf8').trim()).toBe(token);
    const own = track(new IstioCaClient({ address: cp.addresses.tls, rootCert: cp.rootCertPath, token }));
    await expect(own.fetchCertificate(id('default', 'waypoint'))).resolves.toMatchObject({
      identity: id('default', 'waypoint'),
    });
    const impersonating = track(
      new IstioCaClient({ address: cp.addresses.tls, rootCert: cp.rootCertPath, token, impersonate: true }),
    );
    // echo runs on the waypoint's node too, but a waypoint may not impersonate
    await expect(impersonating.fetchCertificate(id('default', 'echo'))).rejects.toMatchObject({
      code: 'CA_PERMISSION_DENIED',
      reason: 'DENIED_NO_IMPERSONATION',
    });
    const anonymous = track(new IstioCaClient({ address: cp.addresses.plaintext, impersonate: true }));
    await expect(anonymous.fetchCertificate(id('default', 'echo'))).rejects.toMatchObject({
      code: 'CA_UNAUTHENTICATED',
    });
  });
});

describe('controlplane serve: state directory', () => {
  it('writes the CA key and tokens 0600, and reuses the CA root and token key on the next start', async () => {
    mesh = await tempMesh();
    const first = mesh.cp;
    const mode = (file: string): number => statSync(join(mesh!.stateDir, file)).mode & 0o777;
    expect(mode('ca-key.pem')).toBe(0o600);
    expect(mode('token-key.pem')).toBe(0o600);
    expect(mode('tokens/node-a')).toBe(0o600);
    expect(readFileSync(join(mesh.stateDir, 'root-cert.pem'), 'utf8')).toBe(first.rootCertPem);
    expect(JSON.parse(readFileSync(join(mesh.stateDir, 'controlplane.json'), 'utf8'))).toMatchObject({
      ports: first.ports,
      configVersion: 1,
    });
    expect(first.caCreated).toBe(true);
    const oldToken = first.tokenFor('node-a')!;
    await first.close();

    const second = await mesh.start();
    expect(second.caCreated).toBe(false);
    expect(second.rootCertPem).toBe(first.rootCertPem);
    // a proxy still holding the previous token keeps working against the restarted control plane
    const ca = track(
      new IstioCaClient({
        address: second.addresses.tls,
        rootCert: second.rootCertPath,
        token: oldToken,
        impersonate: true,
      }),
    );
    await expect(ca.fetchCertificate(id('default', 'client'))).resolves.toMatchObject({
      identity: id('default', 'client'),
    });
  });
});

describe('controlplane serve: following the YAML', () => {
  const extraPod = `
---
apiVersion: v1
kind: Pod
metadata: {name: extra, namespace: default}
spec: {nodeName: node-a, serviceAccountName: extra, containers: [{name: c}]}
status: {podIP: 127.0.1.9}
`;

  it('an editor save (rename over the file) pushes only the changed resources, and the CA follows the new placement', async () => {
    mesh = await tempMesh();
    const { cp } = mesh;
    const { client, recorder } = connect(cp.addresses.plaintext, { token: cp.tokenFor('node-a')! });
    await client.whenSynced();
    const before = recorder.updates.length;
    const ca = track(
      new IstioCaClient({ address: cp.addresses.plaintext, token: cp.tokenFor('node-a')!, impersonate: true }),
    );
    await expect(ca.fetchCertificate(id('default', 'extra'))).rejects.toMatchObject({ code: 'CA_PERMISSION_DENIED' });

    mesh.save(exampleYaml + extraPod);
    await eventually(() => recorder.names(ADDRESS_TYPE_URL).includes('Kubernetes//Pod/default/extra'), 'the push');
    const pushed = recorder.updates.slice(before);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.resources.map((r) => r.name)).toEqual(['Kubernetes//Pod/default/extra']);
    expect(pushed[0]!.removed).toEqual([]);
    expect(cp.served().version).toBe(2);
    await expect(ca.fetchCertificate(id('default', 'extra'))).resolves.toMatchObject({
      identity: id('default', 'extra'),
    });

    // and a removal is pushed as a removal
    mesh.save(exampleYaml);
    await eventually(() => !recorder.names(ADDRESS_TYPE_URL).includes('Kubernetes//Pod/default/extra'), 'the removal');
    expect(recorder.updates.at(-1)!.removed).toEqual(['Kubernetes//Pod/default/extra']);
  });

  it('refuses a broken edit as a whole (every problem logged with file:line), keeps serving, and accepts the fix', async () => {
    mesh = await tempMesh();
    const { cp, file, logs } = mesh;
    const outcomes: string[] = [];
    cp.onUpdate((outcome) => outcomes.push(outcome.kind));
    const { client, recorder } = connect(cp.addresses.plaintext, { token: cp.tokenFor('node-a')! });
    await client.whenSynced();
    const served = recorder.names(ADDRESS_TYPE_URL);

    // a valid new pod and a broken IP in the same edit: nothing of it may be served
    const broken = exampleYaml.replace('podIP: 127.0.2.1', 'podIP: 127.0.2.300') + extraPod;
    mesh.save(broken);
    await eventually(() => outcomes.includes('refused'), 'the refusal');
    const line = broken.split('\n').findIndex((l) => l.includes('127.0.2.300')) + 1;
    const errors = logs.messages('error');
    expect(errors).toContain(
      `${file}:${line}: Pod default/echo-v2: error: status.podIP: "127.0.2.300" is not an IP address`,
    );
    expect(
      errors.some(
        (m) => m.startsWith('update refused: the YAML has 1 error') && m.includes('still serving config version 1'),
      ),
    ).toBe(true);
    expect(cp.served().version).toBe(1);
    expect(cp.xds.cache.get(ADDRESS_TYPE_URL, 'Kubernetes//Pod/default/extra')).toBeUndefined();
    const late = connect(cp.addresses.plaintext, { token: cp.tokenFor('node-b')! });
    await late.client.whenSynced();
    expect(late.recorder.names(ADDRESS_TYPE_URL)).toEqual(served);

    mesh.save(exampleYaml + extraPod);
    await eventually(() => recorder.names(ADDRESS_TYPE_URL).includes('Kubernetes//Pod/default/extra'), 'the fix');
    // listeners hear of the outcome just after the push went out
    await eventually(() => outcomes.at(-1) === 'accepted', 'the accepted outcome');
    expect(outcomes).toEqual(['refused', 'accepted']);
    expect(cp.served().version).toBe(2);
  });

  it('update() re-reads on demand; an unchanged file is "unchanged" and pushes nothing', async () => {
    mesh = await tempMesh(exampleYaml, { watch: false });
    expect(mesh.cp.watching).toBe(0);
    await expect(mesh.cp.update()).resolves.toMatchObject({ kind: 'unchanged', version: 1 });
    mesh.save(exampleYaml + extraPod);
    await expect(mesh.cp.update()).resolves.toMatchObject({
      kind: 'accepted',
      version: 2,
      changes: [{ typeUrl: ADDRESS_TYPE_URL, upserted: ['Kubernetes//Pod/default/extra'], removed: [] }],
    });
  });
});
