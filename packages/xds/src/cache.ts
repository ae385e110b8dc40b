// The resources an xDS server serves, per type URL, with alias lookup and change notification.
import { createHash } from 'node:crypto';
import { toAny, type RawAny, type XdsResource } from '@ambient-ts/istio-api';

/** A resource to serve: raw Any bytes, or a proto3 JSON object encoded through the codecs. */
export type ResourceInput =
  | { readonly name: string; readonly version?: string; readonly aliases?: readonly string[]; readonly any: RawAny }
  | {
      readonly name: string;
      readonly version?: string;
      readonly aliases?: readonly string[];
      readonly json: unknown;
      readonly typeUrl?: string;
    };

export interface CacheUpdate {
  readonly typeUrl: string;
  readonly upsert?: readonly ResourceInput[];
  readonly remove?: readonly string[];
}

export type CacheListener = (typeUrl: string, names: ReadonlySet<string>) => void;

interface TypeTable {
  readonly byName: Map<string, XdsResource>;
  readonly byAlias: Map<string, Set<string>>;
}

/** Content hash: the default version, so an unchanged resource is not re-sent. */
export function contentVersion(any: RawAny): string {
  return createHash('sha256').update(any.typeUrl).update(any.value).digest('hex').slice(0, 16);
}

export class ResourceCache {
  readonly #types = new Map<string, TypeTable>();
  readonly #listeners = new Set<CacheListener>();
  #version = 0;

  /** Apply several type updates as one change; listeners hear once per type. */
  update(updates: readonly CacheUpdate[]): void {
    const changed = new Map<string, Set<string>>();
    for (const update of updates) {
      const table = this.#table(update.typeUrl);
      const names = changed.get(update.typeUrl) ?? new Set<string>();
      changed.set(update.typeUrl, names);
      for (const name of update.remove ?? []) {
        if (this.#delete(table, name)) names.add(name);
      }
      for (const input of update.upsert ?? []) {
        const any = 'any' in input ? input.any : toAny(input.typeUrl ?? update.typeUrl, input.json);
        const resource: XdsResource = {
          name: input.name,
          version: input.version ?? contentVersion(any),
          resource: any,
          aliases: input.aliases ?? [],
        };
        const previous = table.byName.get(input.name);
        if (previous && previous.version === resource.version) continue;
        this.#delete(table, input.name);
        table.byName.set(input.name, resource);
        for (const alias of resource.aliases ?? []) {
          let set = table.byAlias.get(alias);
          if (!set) table.byAlias.set(alias, (set = new Set()));
          set.add(input.name);
        }
        names.add(input.name);
      }
    }
    this.#version++;
    for (const [typeUrl, names] of changed) {
      if (names.size === 0) continue;
      for (const listener of [...this.#listeners]) listener(typeUrl, names);
    }
  }

  get(typeUrl: string, name: string): XdsResource | undefined {
    return this.#types.get(typeUrl)?.byName.get(name);
  }

  /** Primary names of resources that carry `alias`. */
  namesForAlias(typeUrl: string, alias: string): ReadonlySet<string> {
    return this.#types.get(typeUrl)?.byAlias.get(alias) ?? new Set();
  }

  all(typeUrl: string): IterableIterator<XdsResource> {
    return (this.#types.get(typeUrl)?.byName ?? new Map<string, XdsResource>()).values();
  }

  get version(): number {
    return this.#version;
  }

  subscribe(listener: CacheListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #table(typeUrl: string): TypeTable {
    let table = this.#types.get(typeUrl);
    if (!table) this.#types.set(typeUrl, (table = { byName: new Map(), byAlias: new Map() }));
    return table;
  }

  #delete(table: TypeTable, name: string): boolean {
    const old = table.byName.get(name);
    if (!old) return false;
    table.byName.delete(name);
    for (const alias of old.aliases ?? []) {
      const set = table.byAlias.get(alias);
      set?.delete(name);
      if (set?.size === 0) table.byAlias.delete(alias);
    }
    return true;
  }
}
