// What makes an identity one a workload certificate may be requested for.
import { SpiffeId } from '@ambient-ts/spiffe';
import { CertsError } from './errors.ts';

/** Checks the identity is a valid SPIFFE ID with a path; returns it unchanged. */
export function checkIdentity(identity: string): string {
  const id = SpiffeId.tryParse(identity);
  if (!id || id.isTrustDomainId) {
    throw new CertsError(
      'IDENTITY_INVALID',
      `${JSON.stringify(identity)} is not a SPIFFE ID of a workload (expected spiffe://<trust domain>/ns/<namespace>/sa/<service account>)`,
    );
  }
  return identity;
}
