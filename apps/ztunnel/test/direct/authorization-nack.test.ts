// A control plane pushes Authorization resources ztunnel cannot understand, through the real delta-xDS
// server: each is NACKed with the resource name and the field (asserted on what the server receives), and is
// enforced fail-closed — bytes through real HBONE tunnels show that a broken DENY refuses every connection it
// could select while other workloads keep working, and that an ALLOW with an unknown enum allows nothing.
import type { Server } from 'node:net';
import { authorizationResource } from '@ambient-ts/discovery';
import {
  ADDRESS_TYPE_URL,
  AUTHORIZATION_TYPE_URL,
  type DeltaDiscoveryRequest,
  type security,
} from '@ambient-ts/istio-api';
import { socksConnect } from '@ambient-ts/socks5';
import { startXdsServer, type RunningXdsServer } from '@ambient-ts/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundTrip, startEchoServer } from '../helpers/apps.ts';
import { startZtunnel, xdsWorkload, type StartedZtunnel } from '../helpers/harness.ts';
import { eventually } from '../helpers/observe.ts';

const CLIENT = '127.0.21.2';
const GUARDED = '127.0.21.11';
const OPEN = '127.0.21.12';
const ip = (text: string) => Buffer.from(text.split('.').map(Number)).toString('base64');
/** Meant to deny 10.0.0.0/8 only — but its CIDR has 3 address bytes, so nobody can tell what it selects. */
const brokenDeny: security.Authorization = {
  name: 'broken-deny',
  namespace: 'default',
  scope: 'WORKLOAD_SELECTOR',
  action: 'DENY',
  rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: 'CgAA', length: 8 }] }] }] }],
};
/** An ALLOW whose scope is an enum value this schema does not know. */
const unknownScopeAllow: security.Authorization = {
  name: 'future-allow',
  namespace: 'default',
  scope: 7,
  rules: [{ clauses: [{ matches: [{ destinationPorts: [8080] }] }] }],
};

let xds: RunningXdsServer;
let nodeA: StartedZtunnel;
let nodeB: StartedZtunnel;
const apps: Server[] = [];
const requests: { peer: string; request: DeltaDiscoveryRequest }[] = [];

/** What the client app gets back through node A's SOCKS5 port, the HBONE tunnel and node B's inbound. */
async function send(to: string, payload: string): Promise<string> {
  try {
    const socket = await socksConnect({ proxy: nodeA.socks, target: { host: to, port: 8080 }, localAddress: CLIENT });
    return await roundTrip(socket, payload);
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

function authorizationNacks(): string[] {
  return requests
    .filter(({ request }) => request.typeUrl === AUTHORIZATION_TYPE_URL && request.errorDetail)
    .map(({ peer, request }) => `${peer} ${request.errorDetail!.message}`);
}

function authorizationAcks(): number {
  return requests.filter(
    ({ request }) => request.typeUrl === AUTHORIZATION_TYPE_URL && request.responseNonce && !request.errorDetail,
  ).length;
}

beforeAll(async () => {
  apps.push(await startEchoServer(GUARDED, 8080), await startEchoServer(OPEN, 8080));
  xds = await startXdsServer();
  xds.xds.onEvent((event) => {
    if (event.kind === 'request')
      requests.push({ peer: String(event.stream.node?.metadata?.['NODE_NAME']), request: event.request });
  });
  xds.xds.update({
    typeUrl: ADDRESS_TYPE_URL,
    upsert: [
      xdsWorkload('client', CLIENT, 'node-a'),
      xdsWorkload('guarded', GUARDED, 'node-b', ['default/broken-deny']),
      xdsWorkload('open', OPEN, 'node-b'),
    ],
  });
  nodeA = await startZtunnel({ NODE_NAME: 'node-a', XDS_ADDRESS: xds.address });
  nodeB = await startZtunnel({ NODE_NAME: 'node-b', XDS_ADDRESS: xds.address });
  for (const node of [nodeA, nodeB]) {
    await eventually(
      async () => (await node.ready()).status,
      (status) => status === 200,
      10_000,
    );
  }
});

afterAll(async () => {
  await Promise.all([nodeA?.ztunnel.drain(200), nodeB?.ztunnel.drain(200)]);
  await xds?.close();
  for (const app of apps) app.close();
});

describe('a malformed Authorization from the control plane', () => {
  it('carries traffic before any policy', async () => {
    expect(await send(GUARDED, 'hello')).toBe('hellohello');
    expect(await send(OPEN, 'hello')).toBe('hellohello');
  });

  it('is NACKed naming resource and field, and a broken DENY refuses what it could select; others unaffected', async () => {
    const before = authorizationNacks().length;
    xds.xds.update({ typeUrl: AUTHORIZATION_TYPE_URL, upsert: [authorizationResource(brokenDeny)] });
    // both ztunnels NACK it; the server receives error_detail with the resource name and the field
    const nacks = await eventually(
      () => authorizationNacks().slice(before),
      (found) => found.length >= 2,
      10_000,
    );
    expect(nacks.map((message) => message.split(' ')[0]).sort()).toEqual(['node-a', 'node-b']);
    for (const message of nacks) {
      expect(message).toContain(
        'default/broken-deny: rules[0].clauses[0].matches[0].sourceIps[0].address: expected 4 or 16 address bytes, got 3',
      );
    }
    const stream = xds.xds.streams().find((s) => s.node?.metadata?.['NODE_NAME'] === 'node-b')!;
    expect(stream.types.get(AUTHORIZATION_TYPE_URL)!.lastNack?.message).toContain('default/broken-deny');
    await eventually(
      () => nodeB.ztunnel.state.store.getPolicy('default/broken-deny')?.problems.length ?? 0,
      (count) => count === 1,
    );
    // the client (127.0.21.2, outside the 10.0.0.0/8 the author meant) is refused: fail-closed, not fail-open
    expect(await send(GUARDED, 'secret')).toMatch(/^refused/);
    const denial = await eventually(
      () => nodeB.logs().find((line) => String(line['error']).includes('explicitly denied by: default/broken-deny')),
      (line) => line !== undefined,
    );
    expect(String(denial!['error'])).toContain('connection closed due to policy rejection');
    // a workload the policy does not select keeps working
    expect(await send(OPEN, 'still')).toBe('stillstill');
  });

  it('enforces an ALLOW with an unknown enum as allow-nothing (scope unknown: everywhere), until it is removed', async () => {
    const before = authorizationNacks().length;
    xds.xds.update({ typeUrl: AUTHORIZATION_TYPE_URL, upsert: [authorizationResource(unknownScopeAllow)] });
    const nacks = await eventually(
      () => authorizationNacks().slice(before),
      (found) => found.length >= 2,
      10_000,
    );
    for (const message of nacks) {
      expect(message).toContain('default/future-allow: scope: unknown enum value number 7');
      // a NACK names the resources of its own response only (the broken DENY was not re-sent)
      expect(message).not.toContain('default/broken-deny');
    }
    await eventually(
      () => nodeB.ztunnel.state.store.getPolicy('default/future-allow')?.attachment,
      (attachment) => attachment?.kind === 'xds' && attachment.scope === 'GLOBAL',
    );
    expect(await send(OPEN, 'now?')).toMatch(/^refused/);
    const denial = await eventually(
      () => nodeB.logs().find((line) => String(line['error']).includes('allow policies exist, but none allowed')),
      (line) => line !== undefined,
    );
    expect(denial).toBeDefined();
    // removing it restores the open workload (a removal is ACKed)
    const acks = authorizationAcks();
    xds.xds.update({ typeUrl: AUTHORIZATION_TYPE_URL, remove: ['default/future-allow'] });
    await eventually(
      () => authorizationAcks(),
      (count) => count >= acks + 2,
      10_000,
    );
    expect(nodeB.ztunnel.state.store.getPolicy('default/future-allow')).toBeUndefined();
    expect(await send(OPEN, 'back')).toBe('backback');
  });

  it('is replaced by a fixed version, which the ztunnels ACK and enforce as written', async () => {
    const acks = authorizationAcks();
    xds.xds.update({
      typeUrl: AUTHORIZATION_TYPE_URL,
      upsert: [
        authorizationResource({
          ...brokenDeny,
          rules: [{ clauses: [{ matches: [{ sourceIps: [{ address: ip('10.0.0.0'), length: 8 }] }] }] }],
        }),
      ],
    });
    await eventually(
      () => authorizationAcks(),
      (count) => count >= acks + 2,
      10_000,
    );
    expect(nodeB.ztunnel.state.store.getPolicy('default/broken-deny')!.problems).toEqual([]);
    expect(await send(GUARDED, 'allowed again')).toBe('allowed againallowed again');
  });
});
