// ztunnels fed by a real delta-xDS server and issued certificates by a real Istio-API CA over TLS, with
// node tokens and impersonation — the way they run against istiod.
import type { Server } from 'node:net';
import { CaServer, CertificateAuthority, NodeIdentityMap, NodeTokenIssuer } from '@ambient-ts/ca';
import { addressResource } from '@ambient-ts/discovery';
import { ADDRESS_TYPE_URL } from '@ambient-ts/istio-api';
import { startXdsServer, type RunningXdsServer } from '@ambient-ts/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socksConnect } from '@ambient-ts/socks5';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, xdsWorkload, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually } from '../helpers/observe.ts';

let xds: RunningXdsServer;
let ca: CaServer;
let tokens: NodeTokenIssuer;
let nodeX: StartedZtunnel;
let nodeY: StartedZtunnel;
let app: Server;

async function ztunnelFor(node: string): Promise<StartedZtunnel> {
  const token = await tokens.issue({ node, identity: 'spiffe://cluster.local/ns/istio-system/sa/ztunnel' });
  const env = {
    NODE_NAME: node,
    FAKE_CA: 'false',
    XDS_ADDRESS: xds.address,
    CA_ADDRESS: ca.address,
    CA_ROOT_CA: ca.rootCertsPem,
    AUTH_TOKEN: token,
  };
  // No injected CA: the ztunnel's own IstioCaClient talks to the CA server.
  return startZtunnel({ ...env, RUST_LOG: 'info' }, 'from-config');
}

beforeAll(async () => {
  app = await startEchoServer('127.0.8.1', 8080);
  xds = await startXdsServer();
  xds.xds.update({
    typeUrl: ADDRESS_TYPE_URL,
    upsert: [xdsWorkload('client', '127.0.8.2', 'node-x'), xdsWorkload('server', '127.0.8.1', 'node-y')],
  });
  const authority = await CertificateAuthority.create({ trustDomain: 'cluster.local' });
  tokens = await NodeTokenIssuer.create();
  const nodeView = new NodeIdentityMap()
    .add('node-x', 'spiffe://cluster.local/ns/default/sa/client')
    .add('node-y', 'spiffe://cluster.local/ns/default/sa/server');
  ca = new CaServer({ authority, tokenVerifier: tokens.verifier(), nodeView });
  await ca.listen(0);
  nodeX = await ztunnelFor('node-x');
  nodeY = await ztunnelFor('node-y');
});

afterAll(async () => {
  await Promise.all([nodeX?.ztunnel.drain(200), nodeY?.ztunnel.drain(200)]);
  await xds?.close();
  await ca?.close();
  app?.close();
});

describe('against xDS and the CA', () => {
  it('becomes ready after xDS sync and carries traffic with CA-issued certificates', async () => {
    await eventually(
      async () => (await nodeX.ready()).status,
      (status) => status === 200,
    );
    await eventually(
      async () => (await nodeY.ready()).status,
      (status) => status === 200,
    );
    const socket = await socksConnect({
      proxy: nodeX.socks,
      target: { host: '127.0.8.1', port: 8080 },
      localAddress: '127.0.8.2',
    });
    expect(await roundTrip(socket, 'via istiod-like control plane')).toBe('via istiod-like control plane'.repeat(2));
    const dump = (await (await nodeY.admin('/config_dump')).json()) as {
      certificates: { identity: string; state: string }[];
    };
    expect(dump.certificates).toEqual([
      expect.objectContaining({ identity: 'spiffe://cluster.local/ns/default/sa/server', state: 'Available' }),
    ]);
  });

  it('applies the valid resources of a push and NACKs the invalid one', async () => {
    xds.xds.update({
      typeUrl: ADDRESS_TYPE_URL,
      upsert: [
        xdsWorkload('late', '127.0.8.3', 'node-y'),
        addressResource({
          workload: { uid: 'Kubernetes//Pod/default/bad', name: 'bad', namespace: 'default', addresses: ['AAE='] },
        }),
      ],
    });
    await eventually(
      () => nodeY.ztunnel.state.store.getWorkload('Kubernetes//Pod/default/late'),
      (found) => found !== undefined,
    );
    expect(nodeY.ztunnel.state.store.getWorkload('Kubernetes//Pod/default/bad')).toBeUndefined();
    const nack = await eventually(
      async () => nodeY.logs().find((line) => line['message'] === 'rejected xds resources (NACK)'),
      (line) => line !== undefined,
    );
    expect(String(nack!['message'])).toContain('NACK');
    expect(JSON.stringify(nack)).toContain('Kubernetes//Pod/default/bad');
    const metrics = await nodeY.metrics();
    expect(metrics).toMatch(/istio_xds_message_total\{url="type.googleapis.com\/istio.workload.Address"\} [2-9]/);
  });

  it('is not ready while xDS is unreachable, and says what is pending', async () => {
    const lonely = await startZtunnel({ NODE_NAME: 'node-z', XDS_ADDRESS: 'http://127.0.0.1:1', LOCAL_XDS: '' });
    try {
      const response = await lonely.ready();
      expect([response.status, await response.text()]).toEqual([500, 'not ready, pending: proxy, state manager\n']);
    } finally {
      await lonely.ztunnel.drain(100);
    }
  });
});
