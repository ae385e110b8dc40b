// "Who runs where": the CA's view of which workload identities are scheduled on which node. Discovery
// feeds it; the CA only reads it.

export interface NodeWorkloadView {
  /** Whether at least one workload with this identity is scheduled on the node. */
  isOnNode(identity: string, node: string): boolean;
  /** Optional: whether the node exists, to refuse unknown nodes with a clearer reason. */
  hasNode?(node: string): boolean;
}

/** A mutable, reference-counted view: add one entry per workload, remove it when the workload goes. */
export class NodeIdentityMap implements NodeWorkloadView {
  readonly #nodes = new Map<string, Map<string, number>>();

  /** Declare a node (so it is known even with no workloads yet). */
  addNode(node: string): this {
    if (!this.#nodes.has(node)) this.#nodes.set(node, new Map());
    return this;
  }

  deleteNode(node: string): boolean {
    return this.#nodes.delete(node);
  }

  /** One more workload with `identity` on `node`. */
  add(node: string, identity: string): this {
    const identities = this.addNode(node).#nodes.get(node)!;
    identities.set(identity, (identities.get(identity) ?? 0) + 1);
    return this;
  }

  /** One workload with `identity` left `node`. */
  remove(node: string, identity: string): void {
    const identities = this.#nodes.get(node);
    const count = identities?.get(identity);
    if (!identities || count === undefined) return;
    if (count <= 1) identities.delete(identity);
    else identities.set(identity, count - 1);
  }

  /** Replace everything known about a node. */
  setNode(node: string, identities: Iterable<string>): void {
    this.#nodes.set(node, new Map());
    for (const identity of identities) this.add(node, identity);
  }

  identitiesOnNode(node: string): string[] {
    return [...(this.#nodes.get(node)?.keys() ?? [])];
  }

  isOnNode(identity: string, node: string): boolean {
    return (this.#nodes.get(node)?.get(identity) ?? 0) > 0;
  }

  hasNode(node: string): boolean {
    return this.#nodes.has(node);
  }
}
