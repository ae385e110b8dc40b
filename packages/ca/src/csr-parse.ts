// The CA's rule for a workload CSR: exactly one SAN, a workload SPIFFE URI. (Parsing and the
// proof-of-possession check are @ambient-ts/pki's parseCsr.)
import type { ParsedCsr } from '@ambient-ts/pki';
import { tryParseIstioIdentity } from '@ambient-ts/spiffe';
import { CaError } from './errors.ts';

/** The one SPIFFE ID a workload CSR must name. */
export function csrIdentity(csr: ParsedCsr): string {
  if (csr.sans.length === 0) {
    throw new CaError('CSR_NO_SAN', 'the CSR has no subject alternative name; put the SPIFFE ID in one URI SAN');
  }
  if (csr.sans.length > 1) {
    throw new CaError(
      'CSR_MULTIPLE_SANS',
      `the CSR has ${csr.sans.length} subject alternative names (${csr.sans.join(', ')}); a workload CSR has exactly one URI SAN`,
    );
  }
  const [only] = csr.sans as [string];
  const uri = only.startsWith('URI:') ? only.slice(4) : undefined;
  if (uri === undefined || !tryParseIstioIdentity(uri)) {
    throw new CaError(
      'CSR_NOT_SPIFFE',
      `the CSR's subject alternative name ${only} is not a workload SPIFFE ID (spiffe://<trust domain>/ns/<ns>/sa/<sa>)`,
    );
  }
  return uri;
}
