// The CA's "who runs where", answered from the last accepted translation: swapped as a whole on every
// accepted change, so a refused update never changes who may obtain which identity.
import type { NodeWorkloadView } from '@ambient-ts/ca';
import { mayIssue, type Placement } from '../translate/placement.ts';

export class PlacementView implements NodeWorkloadView {
  #placement: Placement;

  constructor(placement: Placement) {
    this.#placement = placement;
  }

  set(placement: Placement): void {
    this.#placement = placement;
  }

  isOnNode(identity: string, node: string): boolean {
    return mayIssue(this.#placement, node, identity);
  }

  hasNode(node: string): boolean {
    return this.#placement.identitiesByNode.has(node);
  }
}
