// One bearer token per node (for its ztunnel: its node, may impersonate that node's workloads) and one per
// waypoint (its own identity only), kept in <state>/tokens/ in step with the accepted config. The same
// tokens authenticate xDS streams and CA calls.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIstioIdentity } from '@ambient-ts/spiffe';
import type { NodeTokenIssuer } from '@ambient-ts/ca';
import type { Placement } from '../translate/placement.ts';
import { writeFileAtomic } from './state-dir.ts';

export interface TokenSpec {
  /** File name under tokens/. */
  readonly file: string;
  readonly kind: 'node' | 'waypoint';
  /** The node name, or `namespace/name` of the waypoint. */
  readonly key: string;
  readonly node: string;
  readonly identity: string;
  readonly mayImpersonate: boolean;
}

export interface TokenPlan {
  readonly specs: readonly TokenSpec[];
  /** Tokens that cannot be written, and why (logged as warnings). */
  readonly skipped: readonly string[];
}

// Node and Gateway names are DNS names; anything else must not become a path.
const safeName = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export const waypointTokenFile = (namespace: string, name: string): string => `waypoint-${namespace}-${name}`;

/** Which tokens the accepted config calls for. Pure. */
export function planTokens(placement: Placement, options: { trustDomain: string; rootNamespace: string }): TokenPlan {
  const ztunnel = formatIstioIdentity({
    trustDomain: options.trustDomain,
    namespace: options.rootNamespace,
    serviceAccount: 'ztunnel',
  });
  const specs: TokenSpec[] = [];
  const skipped: string[] = [];
  const files = new Map<string, string>();
  const add = (spec: TokenSpec): void => {
    const owner = files.get(spec.file);
    if (owner !== undefined) {
      skipped.push(`${spec.kind} ${spec.key}: its token file tokens/${spec.file} is already used by ${owner}`);
      return;
    }
    files.set(spec.file, `${spec.kind} ${spec.key}`);
    specs.push(spec);
  };
  for (const node of placement.nodes) {
    if (!safeName.test(node)) {
      skipped.push(`node ${JSON.stringify(node)}: not a DNS name, so no token file is written for it`);
      continue;
    }
    add({ file: node, kind: 'node', key: node, node, identity: ztunnel, mayImpersonate: true });
  }
  for (const waypoint of placement.waypoints) {
    const key = `${waypoint.namespace}/${waypoint.name}`;
    const node = waypoint.nodes[0];
    if (node === undefined) {
      skipped.push(`waypoint ${key}: it has no node (annotation ambient-ts.io/node or --waypoint-node), so no token`);
      continue;
    }
    const file = waypointTokenFile(waypoint.namespace, waypoint.name);
    if (!safeName.test(file)) {
      skipped.push(`waypoint ${key}: not a DNS name, so no token file is written for it`);
      continue;
    }
    add({ file, kind: 'waypoint', key, node, identity: waypoint.identity, mayImpersonate: false });
  }
  return { specs, skipped };
}

const sameClaims = (a: TokenSpec, b: TokenSpec): boolean =>
  a.node === b.node && a.identity === b.identity && a.mayImpersonate === b.mayImpersonate;

interface Held {
  readonly spec: TokenSpec;
  readonly token: string;
}

/** The token files and the tokens in them. */
export class TokenFiles {
  readonly dir: string;
  readonly #issuer: NodeTokenIssuer;
  readonly #clusterId: string;
  readonly #ttlSeconds: number;
  readonly #held = new Map<string, Held>();

  constructor(dir: string, issuer: NodeTokenIssuer, options: { clusterId: string; ttlSeconds: number }) {
    this.dir = dir;
    this.#issuer = issuer;
    this.#clusterId = options.clusterId;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** Write tokens for new or changed specs, delete files of specs that are gone (and strays from earlier runs). */
  async sync(specs: readonly TokenSpec[]): Promise<{ written: string[]; removed: string[] }> {
    const wanted = new Map(specs.map((spec) => [spec.file, spec]));
    const written: string[] = [];
    for (const spec of specs) {
      const held = this.#held.get(spec.file);
      if (held !== undefined && sameClaims(held.spec, spec)) continue;
      await this.#write(spec);
      written.push(spec.file);
    }
    const removed: string[] = [];
    for (const file of await readdir(this.dir)) {
      if (wanted.has(file)) continue;
      await rm(join(this.dir, file), { force: true });
      this.#held.delete(file);
      removed.push(file);
    }
    return { written, removed };
  }

  /** Re-issue every token (before the old ones expire). */
  async renewAll(): Promise<void> {
    for (const { spec } of [...this.#held.values()]) await this.#write(spec);
  }

  token(file: string): string | undefined {
    return this.#held.get(file)?.token;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  specs(): TokenSpec[] {
    return [...this.#held.values()].map((held) => held.spec);
  }

  async #write(spec: TokenSpec): Promise<void> {
    const token = await this.#issuer.issue({
      node: spec.node,
      identity: spec.identity,
      mayImpersonate: spec.mayImpersonate,
      clusterId: this.#clusterId,
      ttlSeconds: this.#ttlSeconds,
    });
    await writeFileAtomic(join(this.dir, spec.file), `${token}\n`, 0o600);
    this.#held.set(spec.file, { spec, token });
  }
}
