// From a translation to what the xDS cache must change: every resource whose bytes differ from what is
// served (new content hash = new version) and the names that disappeared. Unchanged resources are not
// pushed again.
import { addressResource } from '@ambient-ts/discovery';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, toAny, type workload } from '@ambient-ts/istio-api';
import { contentVersion, type CacheUpdate, type ResourceCache } from '@ambient-ts/xds';
import { L7_TYPE_URL } from '../translate/l7.ts';
import type { Translation } from '../translate/translate.ts';

export interface TypeChange {
  readonly typeUrl: string;
  readonly upserted: readonly string[];
  readonly removed: readonly string[];
}

export interface PushPlan {
  readonly updates: CacheUpdate[];
  readonly changes: readonly TypeChange[];
  /** Total names upserted or removed. */
  readonly size: number;
}

interface Input {
  readonly name: string;
  readonly json: unknown;
  readonly aliases: readonly string[];
}

function inputsByType(t: Translation): [string, Input[]][] {
  return [
    [
      ADDRESS_TYPE_URL,
      t.addresses.map(({ name, resource }) => ({
        name,
        json: resource,
        // `network/ip` aliases, for clients that subscribe on demand
        aliases: addressResource(resource as workload.Address).aliases ?? [],
      })),
    ],
    [AUTHORIZATION_TYPE_URL, t.authorizations.map(({ name, resource }) => ({ name, json: resource, aliases: [] }))],
    [L7_TYPE_URL, t.l7.map(({ name, resource }) => ({ name, json: resource, aliases: [] }))],
  ];
}

export function planPush(cache: ResourceCache, translation: Translation): PushPlan {
  const updates: CacheUpdate[] = [];
  const changes: TypeChange[] = [];
  let size = 0;
  for (const [typeUrl, inputs] of inputsByType(translation)) {
    const upsert = [];
    const wanted = new Set<string>();
    for (const input of inputs) {
      wanted.add(input.name);
      const any = toAny(typeUrl, input.json);
      const version = contentVersion(any);
      if (cache.get(typeUrl, input.name)?.version === version) continue;
      upsert.push({ name: input.name, any, version, aliases: input.aliases });
    }
    const remove = [...cache.all(typeUrl)].map((r) => r.name).filter((name) => !wanted.has(name));
    if (upsert.length === 0 && remove.length === 0) continue;
    updates.push({ typeUrl, upsert, remove });
    changes.push({ typeUrl, upserted: upsert.map((u) => u.name), removed: remove });
    size += upsert.length + remove.length;
  }
  return { updates, changes, size };
}
