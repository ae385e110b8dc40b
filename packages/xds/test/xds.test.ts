// The protocol layer alone: a generic resource handler over a real client <-> server on port 0.
import { WORKLOAD_TYPE_URL, decodeResource, toAny, type DeltaDiscoveryRequest } from '@ambient-ts/istio-api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DeltaXdsClient,
  resourceHandler,
  startXdsServer,
  type ConvertedResource,
  type RunningXdsServer,
} from '../src/index.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Accepts workloads whose uid starts with "ok"; the others are rejected, "bad-enforced" with a stand-in. */
function uidHandler(applied: ConvertedResource<string>[][], removed: string[][]) {
  return resourceHandler<string>({
    typeUrl: WORKLOAD_TYPE_URL,
    convert(name, any) {
      const workload = decodeResource(WORKLOAD_TYPE_URL, any.value);
      if (workload.uid?.startsWith('ok')) return { ok: true, value: workload.uid };
      if (name === 'bad-enforced') return { ok: false, reason: 'uid: not ok', enforce: 'stand-in' };
      if (name === 'throws') throw new Error('uid: converter failed');
      return { ok: false, reason: `uid: ${JSON.stringify(workload.uid)} does not start with "ok"` };
    },
    apply(values, gone) {
      applied.push([...values]);
      removed.push([...gone]);
    },
  });
}

describe('resourceHandler', () => {
  it('converts each resource on its own: accepted and enforced values apply, rejections are returned', async () => {
    const applied: ConvertedResource<string>[][] = [];
    const removed: string[][] = [];
    const handler = uidHandler(applied, removed);
    const result = await handler.handle({
      typeUrl: WORKLOAD_TYPE_URL,
      resources: [
        { name: 'a', version: '1', resource: toAny(WORKLOAD_TYPE_URL, { uid: 'ok-a' }) },
        { name: 'b', version: '1', resource: toAny(WORKLOAD_TYPE_URL, { uid: 'b' }) },
        { name: 'bad-enforced', version: '1', resource: toAny(WORKLOAD_TYPE_URL, { uid: 'x' }) },
        { name: 'throws', version: '1', resource: toAny(WORKLOAD_TYPE_URL, { uid: 'x' }) },
        { name: 'wrong', version: '1', resource: { typeUrl: 'type.googleapis.com/other', value: new Uint8Array() } },
        { name: 'empty', version: '1' },
      ],
      removed: ['old'],
    });
    expect(result.rejected).toEqual([
      { name: 'b', reason: 'uid: "b" does not start with "ok"' },
      { name: 'bad-enforced', reason: 'uid: not ok' },
      { name: 'throws', reason: 'uid: converter failed' },
      { name: 'wrong', reason: `resource type type.googleapis.com/other is not ${WORKLOAD_TYPE_URL}` },
      { name: 'empty', reason: `resource type (none) is not ${WORKLOAD_TYPE_URL}` },
    ]);
    expect(applied).toEqual([
      [
        { name: 'a', value: 'ok-a', accepted: true },
        { name: 'bad-enforced', value: 'stand-in', accepted: false },
      ],
    ]);
    expect(removed).toEqual([['old']]);
  });
});

describe('delta xDS client <-> server', () => {
  async function setup(): Promise<{
    server: RunningXdsServer;
    client: DeltaXdsClient;
    requests: DeltaDiscoveryRequest[];
    applied: ConvertedResource<string>[][];
  }> {
    const server = await startXdsServer();
    cleanups.push(() => server.close());
    const requests: DeltaDiscoveryRequest[] = [];
    server.xds.onEvent((event) => event.kind === 'request' && requests.push(event.request));
    const applied: ConvertedResource<string>[][] = [];
    const client = new DeltaXdsClient({
      address: server.address,
      node: { id: 'test~node' },
      handlers: { [WORKLOAD_TYPE_URL]: uidHandler(applied, []) },
      backoff: { initialMs: 10, maxMs: 50 },
    });
    cleanups.push(() => client.close());
    return { server, client, requests, applied };
  }

  it('NACKs with error_detail naming each rejected resource and its field, applying the accepted ones', async () => {
    const { server, client, requests, applied } = await setup();
    server.xds.update({ typeUrl: WORKLOAD_TYPE_URL, upsert: [{ name: 'ok-1', json: { uid: 'ok-1' } }] });
    client.start();
    await client.whenSynced();
    await eventually(() => requests.some((r) => r.responseNonce !== ''), 'the first ACK');
    const first = requests.filter((r) => r.responseNonce !== '');
    expect(first).toHaveLength(1);
    expect(first[0]!.errorDetail).toBeUndefined(); // an ACK
    server.xds.update({
      typeUrl: WORKLOAD_TYPE_URL,
      upsert: [
        { name: 'ok-2', json: { uid: 'ok-2' } },
        { name: 'nope', json: { uid: 'nope' } },
        { name: 'bad-enforced', json: { uid: 'bad' } },
      ],
    });
    await eventually(() => requests.some((r) => r.errorDetail), 'the NACK');
    const nack = requests.find((r) => r.errorDetail)!;
    expect(nack.typeUrl).toBe(WORKLOAD_TYPE_URL);
    expect(nack.errorDetail!.code).toBe(3); // INVALID_ARGUMENT
    expect(nack.errorDetail!.message).toBe('nope: uid: "nope" does not start with "ok"; bad-enforced: uid: not ok');
    expect(server.xds.streams()[0]!.types.get(WORKLOAD_TYPE_URL)!).toMatchObject({ acks: 1, nacks: 1 });
    expect(
      applied
        .at(-1)!
        .map((v) => `${v.name}=${v.value}`)
        .sort(),
    ).toEqual(['bad-enforced=stand-in', 'ok-2=ok-2']);
    // rejected resources are not recorded as held, accepted ones are
    expect([...client.ackedVersions(WORKLOAD_TYPE_URL).keys()].sort()).toEqual(['ok-1', 'ok-2']);
    // the next good push is ACKed again
    server.xds.update({ typeUrl: WORKLOAD_TYPE_URL, upsert: [{ name: 'nope', json: { uid: 'ok-now' } }] });
    await eventually(() => server.xds.streams()[0]!.types.get(WORKLOAD_TYPE_URL)!.acks === 2, 'the ACK');
    expect(client.ackedVersions(WORKLOAD_TYPE_URL).has('nope')).toBe(true);
  });
});
