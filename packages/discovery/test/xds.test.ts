// Client <-> server over real gRPC on port 0: subscribe, update, NACK, reconnect, on-demand.
import { afterEach, describe, expect, it } from 'vitest';
import { DiscoveryStore, authorizationResource, storeHandlers } from '../src/index.ts';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  encodeResource,
  type DeltaDiscoveryRequest,
} from '@ambient-ts/istio-api';
import {
  DeltaXdsClient,
  startXdsServer,
  ztunnelNode,
  type RunningXdsServer,
  type XdsClientOptions,
} from '@ambient-ts/xds';
import { evaluateL4 } from '@ambient-ts/policy';
import { b64ip, eventually, upsertWorkloads, workloadAddress } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startXdsServer>[0] = {}): Promise<RunningXdsServer> {
  const running = await startXdsServer(options);
  cleanups.push(() => running.close());
  return running;
}

function client(address: string, store: DiscoveryStore, extra: Partial<XdsClientOptions> = {}): DeltaXdsClient {
  const c = new DeltaXdsClient({
    address,
    node: ztunnelNode({
      podName: 'ztunnel-abc',
      podNamespace: 'istio-system',
      nodeName: 'node1',
      instanceIp: '10.0.0.1',
    }),
    clusterId: 'Kubernetes',
    token: 'secret-token',
    handlers: storeHandlers(store),
    backoff: { initialMs: 10, maxMs: 50 },
    ...extra,
  });
  cleanups.push(() => c.close());
  c.start();
  return c;
}

describe('delta xDS over gRPC', () => {
  it('subscribes with wildcard, sends node and auth headers, syncs and receives pushes', async () => {
    const requests: DeltaDiscoveryRequest[] = [];
    const seenHeaders: Record<string, unknown>[] = [];
    const s = await server({
      authenticate: async (metadata) => {
        seenHeaders.push(metadata.getMap());
        return 'caller';
      },
    });
    s.xds.onEvent((e) => e.kind === 'request' && requests.push(e.request));
    s.xds.update(upsertWorkloads(workloadAddress('a', '10.0.0.5')), {
      typeUrl: AUTHORIZATION_TYPE_URL,
      upsert: [authorizationResource({ name: 'allow-all', namespace: 'istio-system' })],
    });
    const store = new DiscoveryStore();
    const c = client(s.address, store);
    await c.whenSynced();
    expect(store.findWorkloadByAddress('', '10.0.0.5')?.uid).toBe('Kubernetes//Pod/default/a');
    expect(store.getPolicy('istio-system/allow-all')).toMatchObject({
      key: 'istio-system/allow-all',
      action: 'ALLOW',
      attachment: { kind: 'xds', scope: 'GLOBAL' },
      rules: [],
      problems: [],
    });
    expect(seenHeaders[0]).toMatchObject({ authorization: 'Bearer secret-token', clusterid: 'Kubernetes' });
    const initial = requests.filter((r) => r.node);
    expect(initial.map((r) => r.typeUrl).sort()).toEqual([ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL].sort());
    expect(initial[0]!.node!.id).toBe('ztunnel~10.0.0.1~ztunnel-abc.istio-system~istio-system.svc.cluster.local');
    expect(initial[0]!.node!.metadata).toMatchObject({
      NAME: 'ztunnel-abc',
      NAMESPACE: 'istio-system',
      NODE_NAME: 'node1',
    });
    expect(initial[0]!.resourceNamesSubscribe).toEqual([]);
    // ACKs echo only type_url + nonce
    await eventually(() => s.xds.streams()[0]?.types.get(ADDRESS_TYPE_URL)?.acks === 1, 10_000, 'ack');
    const ackReq = requests.find((r) => r.responseNonce && r.typeUrl === ADDRESS_TYPE_URL)!;
    expect(ackReq.node).toBeUndefined();
    expect(ackReq.errorDetail).toBeUndefined();

    // push on change: update and removal
    s.xds.update(upsertWorkloads(workloadAddress('b', '10.0.0.6')));
    await eventually(() => store.getWorkload('Kubernetes//Pod/default/b') !== undefined, 10_000, 'push');
    s.xds.update({ typeUrl: ADDRESS_TYPE_URL, remove: ['Kubernetes//Pod/default/a'] });
    await eventually(() => store.getWorkload('Kubernetes//Pod/default/a') === undefined, 10_000, 'removal');
    expect(c.ackedVersions(ADDRESS_TYPE_URL).has('Kubernetes//Pod/default/b')).toBe(true);
    expect(c.state.state).toBe('connected');
  });

  it('NACKs one invalid resource, applies its siblings, keeps the last good version', async () => {
    const s = await server();
    const nacks: string[] = [];
    s.xds.onEvent((e) => e.kind === 'nack' && nacks.push(e.message));
    const store = new DiscoveryStore();
    s.xds.update(upsertWorkloads(workloadAddress('bad', '10.0.0.7')));
    const c = client(s.address, store);
    await c.whenSynced();
    expect(store.getWorkload('Kubernetes//Pod/default/bad')?.protocol).toBe('HBONE');
    s.xds.update(
      upsertWorkloads(
        workloadAddress('bad', '10.0.0.7', { tunnelProtocol: 'LEGACY_ISTIO_MTLS' }),
        workloadAddress('good', '10.0.0.8'),
        { workload: { uid: 'Kubernetes//Pod/default/short', addresses: ['AQID'] } },
      ),
    );
    await eventually(() => nacks.length === 1, 10_000, 'nack');
    expect(nacks[0]).toContain(
      'Kubernetes//Pod/default/bad: workload.tunnelProtocol: LEGACY_ISTIO_MTLS is not supported',
    );
    expect(nacks[0]).toContain('Kubernetes//Pod/default/short: workload.addresses[0]: invalid address length 3');
    expect(nacks[0]).toContain('; ');
    expect(store.getWorkload('Kubernetes//Pod/default/good')).toBeDefined();
    expect(store.getWorkload('Kubernetes//Pod/default/bad')?.protocol).toBe('HBONE'); // last good version
    expect(store.getWorkload('Kubernetes//Pod/default/short')).toBeUndefined();
    // rejected names are not recorded, so a reconnect asks for them again
    expect(c.ackedVersions(ADDRESS_TYPE_URL).has('Kubernetes//Pod/default/bad')).toBe(false);
    expect(c.ackedVersions(ADDRESS_TYPE_URL).has('Kubernetes//Pod/default/good')).toBe(true);
    expect(s.xds.streams()[0]!.types.get(ADDRESS_TYPE_URL)!.lastNack?.message).toBe(nacks[0]);
  });

  it('NACKs a malformed Authorization naming resource and field, and enforces it fail-closed', async () => {
    const s = await server();
    const nacks: string[] = [];
    const acks: string[] = [];
    s.xds.onEvent((e) => {
      if (e.kind === 'nack') nacks.push(e.message);
      if (e.kind === 'ack' && e.typeUrl === AUTHORIZATION_TYPE_URL) acks.push(e.nonce);
    });
    const store = new DiscoveryStore();
    const c = client(s.address, store);
    await c.whenSynced();
    const badDeny = {
      name: 'broken-deny',
      namespace: 'default',
      scope: 'WORKLOAD_SELECTOR' as const,
      action: 'DENY' as const,
      rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: b64ip('10.0.0.0').slice(0, 4), length: 8 }] }] }] }],
    };
    s.xds.update({
      typeUrl: AUTHORIZATION_TYPE_URL,
      upsert: [
        authorizationResource(badDeny),
        authorizationResource({ name: 'odd-allow', namespace: 'default', scope: 9, rules: [{}] }),
        authorizationResource({ name: 'fine', namespace: 'default', scope: 'NAMESPACE', rules: [{}] }),
      ],
    });
    await eventually(() => nacks.length === 1, 10_000, 'nack');
    expect(nacks[0]).toContain(
      'default/broken-deny: rules[0].clauses[0].matches[0].sourceIps[0].address: expected 4 or 16 address bytes, got 3',
    );
    expect(nacks[0]).toContain('default/odd-allow: scope: unknown enum value number 9');
    expect(nacks[0]).not.toContain('default/fine');
    // the sibling applies; the broken ones are stored as their fail-closed stand-ins
    expect(store.getPolicy('default/fine')).toMatchObject({ action: 'ALLOW', problems: [] });
    expect(store.getPolicy('default/broken-deny')).toMatchObject({
      action: 'DENY',
      attachment: { kind: 'xds', scope: 'WORKLOAD_SELECTOR' },
      rules: [{ clauses: [] }],
      problems: [{ field: 'rules[0].clauses[0].matches[0].sourceIps[0].address' }],
    });
    expect(store.getPolicy('default/odd-allow')).toMatchObject({
      action: 'ALLOW',
      attachment: { kind: 'xds', scope: 'GLOBAL' },
      rules: [],
    });
    const selected = { namespace: 'default', authorizationPolicies: ['default/broken-deny'] };
    const connection = { sourceIp: '192.168.0.1', destinationIp: '10.0.0.5', destinationPort: 80 };
    expect(evaluateL4(store.policiesFor(selected), connection)).toMatchObject({
      allowed: false,
      policy: 'default/broken-deny',
    });
    expect(evaluateL4(store.policiesFor({ namespace: 'default', authorizationPolicies: [] }), connection).allowed).toBe(
      true,
    );
    expect(c.ackedVersions(AUTHORIZATION_TYPE_URL).has('default/broken-deny')).toBe(false);
    expect(s.xds.streams()[0]!.types.get(AUTHORIZATION_TYPE_URL)!.lastNack?.message).toBe(nacks[0]);
    // a fixed version is ACKed and replaces the stand-in; removing the resource removes it
    const acked = acks.length;
    s.xds.update({
      typeUrl: AUTHORIZATION_TYPE_URL,
      upsert: [authorizationResource({ ...badDeny, rules: [{ clauses: [{ matches: [{ destinationPorts: [9] }] }] }] })],
      remove: ['default/odd-allow'],
    });
    await eventually(() => acks.length > acked, 10_000, 'ack of the fixed policy');
    expect(store.getPolicy('default/broken-deny')!.problems).toEqual([]);
    expect(store.getPolicy('default/odd-allow')).toBeUndefined();
    expect(evaluateL4(store.policiesFor(selected), connection).allowed).toBe(true);
  });

  it('reconnects after the stream drops, keeps the store and sends initial_resource_versions', async () => {
    const s = await server();
    const requests: DeltaDiscoveryRequest[] = [];
    s.xds.onEvent((e) => e.kind === 'request' && requests.push(e.request));
    s.xds.update(upsertWorkloads(workloadAddress('a', '10.0.0.5')));
    const store = new DiscoveryStore();
    const terminations: string[] = [];
    const c = client(s.address, store, { hooks: { onConnectionTermination: (reason) => terminations.push(reason) } });
    await c.whenSynced();
    const version = c.ackedVersions(ADDRESS_TYPE_URL).get('Kubernetes//Pod/default/a');
    expect(version).toBeDefined();
    s.xds.disconnectAll('test drop');
    await eventually(
      () => requests.filter((r) => r.node && r.typeUrl === ADDRESS_TYPE_URL).length === 2,
      10_000,
      'reconnect',
    );
    const again = requests.filter((r) => r.node && r.typeUrl === ADDRESS_TYPE_URL)[1]!;
    expect(again.initialResourceVersions).toEqual({ 'Kubernetes//Pod/default/a': version });
    expect(store.getWorkload('Kubernetes//Pod/default/a')).toBeDefined();
    expect(terminations.length).toBeGreaterThanOrEqual(1);
    expect(
      c.counters.terminations.ConnectionError + c.counters.terminations.Reconnect + c.counters.terminations.Error,
    ).toBeGreaterThanOrEqual(1);
    // a change made while reconnecting arrives
    s.xds.update(upsertWorkloads(workloadAddress('c', '10.0.0.9')));
    await eventually(() => store.getWorkload('Kubernetes//Pod/default/c') !== undefined, 10_000, 'post-reconnect push');
  });

  it('fetches Address on demand by network/ip and answers unknown names as removed', async () => {
    const s = await server();
    const requests: DeltaDiscoveryRequest[] = [];
    s.xds.onEvent((e) => e.kind === 'request' && requests.push(e.request));
    s.xds.update(upsertWorkloads(workloadAddress('a', '10.0.0.5'), workloadAddress('b', '10.0.0.6')));
    const store = new DiscoveryStore();
    const c = client(s.address, store, { onDemandTypes: [ADDRESS_TYPE_URL] });
    await c.whenSynced();
    const initial = requests.find((r) => r.node && r.typeUrl === ADDRESS_TYPE_URL)!;
    expect(initial.resourceNamesSubscribe).toEqual(['*']);
    expect(initial.resourceNamesUnsubscribe).toEqual(['*']);
    expect(store.workloadCount).toBe(0);
    expect(await c.demand('/10.0.0.6')).toBe('received');
    expect(store.findWorkloadByAddress('', '10.0.0.6')?.name).toBe('b');
    expect(store.getWorkload('Kubernetes//Pod/default/a')).toBeUndefined();
    expect(await c.demand('/10.9.9.9')).toBe('removed');
    // a demanded resource keeps receiving updates
    s.xds.update(upsertWorkloads(workloadAddress('b', '10.0.0.6', { tunnelProtocol: 'NONE' })));
    await eventually(
      () => store.getWorkload('Kubernetes//Pod/default/b')?.protocol === 'TCP',
      10_000,
      'on-demand update',
    );
  });

  it('rejects unauthenticated streams and backs off without throwing', async () => {
    const s = await server({
      authenticate: async (metadata) => {
        if (metadata.get('authorization')[0] !== 'Bearer good') throw new Error('bad token');
        return 'ok';
      },
    });
    let token = 'bad';
    const store = new DiscoveryStore();
    const reasons: string[] = [];
    const c = client(s.address, store, {
      token: () => token,
      hooks: { onConnectionTermination: (r, d) => reasons.push(`${r} ${d}`) },
    });
    await eventually(() => reasons.length >= 1, 10_000, 'rejection');
    expect(reasons[0]).toContain('UNAUTHENTICATED');
    expect(c.synced).toBe(false);
    token = 'good'; // the token function is re-read on each connect
    await c.whenSynced();
    expect(c.synced).toBe(true);
  });

  it('serves arbitrary type URLs as raw Any resources', async () => {
    const s = await server();
    const typeUrl = 'type.googleapis.com/example.Thing';
    s.xds.update({
      typeUrl,
      upsert: [{ name: 'x', version: 'v1', any: { typeUrl, value: new Uint8Array([1, 2, 3]) } }],
    });
    const received: string[] = [];
    const store = new DiscoveryStore();
    const c = client(s.address, store, {
      handlers: {
        [typeUrl]: {
          handle: (u) => (
            received.push(...u.resources.map((r) => `${r.name}@${r.version}:${r.resource?.value.length}`)),
            {}
          ),
        },
      },
    });
    await c.whenSynced();
    expect(received).toEqual(['x@v1:3']);
    // and the Istio codec path encodes JSON given to the cache
    expect(encodeResource(ADDRESS_TYPE_URL, workloadAddress('z', '10.1.1.1')).length).toBeGreaterThan(10);
    expect(b64ip('10.1.1.1')).toBe('CgEBAQ==');
  });
});
