import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeTokenIssuer } from '@ambient-ts/ca';
import { afterEach, describe, expect, it } from 'vitest';
import { PlacementView } from './node-view.ts';
import { planTokens, TokenFiles, type TokenSpec } from './tokens.ts';
import type { Placement } from '../translate/placement.ts';

const td = { trustDomain: 'cluster.local', rootNamespace: 'istio-system' };
const ztunnel = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';

function placement(nodes: Record<string, string[]>, waypoints: Placement['waypoints'] = []): Placement {
  const byNode = new Map(Object.entries(nodes).map(([node, ids]) => [node, new Set(ids)]));
  return { nodes: Object.keys(nodes).sort(), identitiesByNode: byNode, waypoints };
}

describe('planTokens', () => {
  it('one impersonating ztunnel token per node, one own-identity token per placed waypoint', () => {
    const plan = planTokens(
      placement({ 'node-a': [], 'node-b': [] }, [
        { namespace: 'default', name: 'wp', identity: 'spiffe://cluster.local/ns/default/sa/wp', nodes: ['node-b'] },
        { namespace: 'default', name: 'idle', identity: 'spiffe://cluster.local/ns/default/sa/idle', nodes: [] },
      ]),
      td,
    );
    expect(plan.specs).toEqual([
      { file: 'node-a', kind: 'node', key: 'node-a', node: 'node-a', identity: ztunnel, mayImpersonate: true },
      { file: 'node-b', kind: 'node', key: 'node-b', node: 'node-b', identity: ztunnel, mayImpersonate: true },
      {
        file: 'waypoint-default-wp',
        kind: 'waypoint',
        key: 'default/wp',
        node: 'node-b',
        identity: 'spiffe://cluster.local/ns/default/sa/wp',
        mayImpersonate: false,
      },
    ]);
    expect(plan.skipped).toEqual([expect.stringContaining('waypoint default/idle: it has no node')]);
  });

  it('never turns a name into a path outside tokens/, and reports file name clashes', () => {
    const plan = planTokens(
      placement({ '../etc': [], 'waypoint-a-b-c': [] }, [
        { namespace: 'a', name: 'b-c', identity: 'spiffe://cluster.local/ns/a/sa/b-c', nodes: ['x'] },
      ]),
      { trustDomain: 'example.org', rootNamespace: 'mesh' },
    );
    expect(plan.specs.map((s) => s.file)).toEqual(['waypoint-a-b-c']);
    expect(plan.specs[0]!.identity).toBe('spiffe://example.org/ns/mesh/sa/ztunnel');
    expect(plan.skipped).toEqual([
      expect.stringContaining('node "../etc": not a DNS name'),
      expect.stringContaining('waypoint a/b-c: its token file tokens/waypoint-a-b-c is already used by node'),
    ]);
  });
});

describe('TokenFiles', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes verifiable 0600 tokens, rewrites only changed claims, and deletes tokens no longer wanted', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    const issuer = await NodeTokenIssuer.create();
    const files = new TokenFiles(dir, issuer, { clusterId: 'Kubernetes', ttlSeconds: 3600 });
    const node = (name: string): TokenSpec => ({
      file: name,
      kind: 'node',
      key: name,
      node: name,
      identity: ztunnel,
      mayImpersonate: true,
    });
    writeFileSync(join(dir, 'stale'), 'old');
    expect(await files.sync([node('node-a'), node('node-b')])).toEqual({
      written: ['node-a', 'node-b'],
      removed: ['stale'],
    });
    expect(statSync(join(dir, 'node-a')).mode & 0o777).toBe(0o600);
    const token = readFileSync(join(dir, 'node-a'), 'utf8').trim();
    expect(token).toBe(files.token('node-a'));
    await expect(issuer.verifier().verify(token, { clusterId: 'Kubernetes' })).resolves.toEqual({
      identity: ztunnel,
      node: 'node-a',
      mayImpersonate: true,
    });
    await files.renewAll();
    const renewed = readFileSync(join(dir, 'node-a'), 'utf8').trim();
    expect(renewed).not.toBe(token);
    expect(renewed).toBe(files.token('node-a'));
    await expect(issuer.verifier().verify(renewed, { clusterId: 'Kubernetes' })).resolves.toMatchObject({
      node: 'node-a',
    });
    expect(await files.sync([node('node-a')])).toEqual({ written: [], removed: ['node-b'] });
    expect(readdirSync(dir)).toEqual(['node-a']);
    expect(files.token('node-b')).toBeUndefined();
  });
});

describe('PlacementView', () => {
  it('answers from the placement it holds and follows set()', () => {
    const view = new PlacementView(placement({ 'node-a': ['spiffe://cluster.local/ns/default/sa/echo'] }));
    expect(view.isOnNode('spiffe://cluster.local/ns/default/sa/echo', 'node-a')).toBe(true);
    expect(view.isOnNode('spiffe://cluster.local/ns/default/sa/echo', 'node-b')).toBe(false);
    expect(view.hasNode('node-b')).toBe(false);
    view.set(placement({ 'node-b': ['spiffe://cluster.local/ns/default/sa/echo'] }));
    expect(view.isOnNode('spiffe://cluster.local/ns/default/sa/echo', 'node-a')).toBe(false);
    expect(view.hasNode('node-b')).toBe(true);
  });
});
