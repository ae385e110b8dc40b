// The waypoint's L7 configuration: every AuthorizationPolicy, RequestAuthentication, HTTPRoute and
// waypoint Gateway it received, by resource name. A rejected update keeps the last good version of that
// object (xDS NACK semantics); a policy rejected with no earlier version is enforced in the policy
// package's fail-safe reading (ALLOW → allow-nothing, DENY → deny-all), so a broken policy never widens access.
import type { AuthorizationPolicy, RequestAuthenticationPolicy } from '@ambient-ts/policy';
import type { HttpRoute } from '@ambient-ts/routes';
import type { WaypointGateway } from './gateway.ts';
import { loadL7Object, type L7Object } from './l7-object.ts';

export interface L7Rejection {
  readonly name: string;
  readonly reason: string;
}

interface Entry {
  readonly object: L7Object;
  /** The object in force is the fail-safe reading of a rejected one. */
  readonly failSafe: boolean;
  readonly warnings: readonly string[];
}

export interface L7Snapshot {
  readonly objects: { name: string; kind: string; failSafe: boolean; warnings: readonly string[] }[];
  readonly rejected: L7Rejection[];
}

export class L7Store {
  readonly #entries = new Map<string, Entry>();
  readonly #rejected = new Map<string, string>();
  readonly #listeners = new Set<() => void>();
  #authz: AuthorizationPolicy[] = [];
  #authn: RequestAuthenticationPolicy[] = [];
  #routes: HttpRoute[] = [];
  #gateways = new Map<string, WaypointGateway>();
  #version = 0;

  /** Apply one push: upserts (name + decoded JSON) and removals. Returns what was rejected. */
  apply(
    upserts: readonly { name: string; json: unknown }[],
    removed: readonly string[] = [],
  ): { rejected: L7Rejection[] } {
    const rejected: L7Rejection[] = [];
    for (const name of removed) {
      this.#entries.delete(name);
      this.#rejected.delete(name);
    }
    for (const { name, json } of upserts) {
      const loaded = loadL7Object(name, json);
      if (loaded.object) {
        this.#entries.set(name, { object: loaded.object, failSafe: false, warnings: loaded.warnings });
        this.#rejected.delete(name);
        continue;
      }
      const reason = loaded.error ?? `${name}: rejected`;
      rejected.push({ name, reason });
      this.#rejected.set(name, reason);
      const previous = this.#entries.get(name);
      if ((!previous || previous.failSafe) && loaded.failSafe) {
        this.#entries.set(name, { object: loaded.failSafe, failSafe: true, warnings: loaded.warnings });
      }
    }
    this.#reindex();
    for (const listener of this.#listeners) listener();
    return { rejected };
  }

  #reindex(): void {
    const authz: AuthorizationPolicy[] = [];
    const authn: RequestAuthenticationPolicy[] = [];
    const routes: HttpRoute[] = [];
    const gateways = new Map<string, WaypointGateway>();
    for (const { object } of this.#entries.values()) {
      if (object.kind === 'AuthorizationPolicy') authz.push(object.policy);
      else if (object.kind === 'RequestAuthentication') authn.push(object.policy);
      else if (object.kind === 'HTTPRoute') routes.push(object.route);
      else gateways.set(object.gateway.key, object.gateway);
    }
    // Stable order: policies by key; routes by age, then namespace/name (Gateway API precedence ties).
    authz.sort((a, b) => a.key.localeCompare(b.key));
    authn.sort((a, b) => a.key.localeCompare(b.key));
    routes.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.key.localeCompare(b.key));
    this.#authz = authz;
    this.#authn = authn;
    this.#routes = routes;
    this.#gateways = gateways;
    this.#version++;
  }

  /** Increases on every applied push (caches key on it). */
  get version(): number {
    return this.#version;
  }

  authorizationPolicies(): readonly AuthorizationPolicy[] {
    return this.#authz;
  }

  requestAuthentications(): readonly RequestAuthenticationPolicy[] {
    return this.#authn;
  }

  routes(): readonly HttpRoute[] {
    return this.#routes;
  }

  gateway(namespace: string, name: string): WaypointGateway | undefined {
    return this.#gateways.get(`${namespace}/${name}`);
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): L7Snapshot {
    return {
      objects: [...this.#entries].map(([name, entry]) => ({
        name,
        kind: entry.object.kind,
        failSafe: entry.failSafe,
        warnings: entry.warnings,
      })),
      rejected: [...this.#rejected].map(([name, reason]) => ({ name, reason })),
    };
  }
}
