// Node authorization, as a pure decision: a caller may obtain its own identity, and may impersonate an
// identity only if it is a node proxy and a workload with that identity runs on its node
// (istio/istio security/pkg/server/ca/node_auth.go enforces the same for ztunnel).
import { SpiffeId } from '@ambient-ts/spiffe';
import type { CaErrorCode } from './errors.ts';
import type { NodeWorkloadView } from './node-view.ts';
import type { Caller } from './tokens.ts';

export interface AuthorizeInput {
  caller: Caller;
  /** The identity to be issued (already validated as a workload SPIFFE ID). */
  requested: string;
  /** Whether the request carried ImpersonatedIdentity. */
  impersonating: boolean;
  trustDomain: string;
  view: NodeWorkloadView;
}

export type Decision =
  | { allowed: true; basis: 'own-identity' | 'workload-on-node' }
  | { allowed: false; code: CaErrorCode; message: string };

function trustDomainOf(identity: string): string | undefined {
  return SpiffeId.tryParse(identity)?.trustDomain;
}

export function authorize(input: AuthorizeInput): Decision {
  const { caller, requested, view } = input;
  const refuse = (code: CaErrorCode, why: string): Decision => ({
    allowed: false,
    code,
    message: `refused to issue ${requested} to ${caller.identity}${caller.node ? ` on node "${caller.node}"` : ''}: ${why}`,
  });
  if (trustDomainOf(requested) !== input.trustDomain) {
    return refuse('DENIED_TRUST_DOMAIN', `this CA issues identities of trust domain "${input.trustDomain}" only`);
  }
  if (requested === caller.identity) return { allowed: true, basis: 'own-identity' };
  if (!input.impersonating) {
    return refuse(
      'DENIED_NOT_OWN_IDENTITY',
      'a caller may only obtain its own identity; a node proxy asks for others with the ImpersonatedIdentity metadata key',
    );
  }
  if (!caller.mayImpersonate)
    return refuse('DENIED_NO_IMPERSONATION', 'the caller is not a node proxy allowed to impersonate');
  if (caller.node === undefined || caller.node === '') {
    return refuse('DENIED_UNKNOWN_NODE', 'the caller token names no node');
  }
  if (view.hasNode && !view.hasNode(caller.node)) {
    return refuse('DENIED_UNKNOWN_NODE', `node "${caller.node}" is not known to the CA`);
  }
  if (!view.isOnNode(requested, caller.node)) {
    return refuse('DENIED_NOT_ON_NODE', `no workload with this identity runs on node "${caller.node}"`);
  }
  return { allowed: true, basis: 'workload-on-node' };
}
