// Istio's identity shape, spiffe://<trust domain>/ns/<namespace>/sa/<service account>.
import { SpiffeError } from './errors.ts';
import { SpiffeId } from './spiffe-id.ts';

/** The three parts of an Istio workload identity. */
export interface IstioIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface ParseIstioOptions {
  /**
   * Accept what Istio's ztunnel accepts: any text `spiffe://<td>/ns/<ns>/sa/<sa>` split on "/", with
   * empty parts and unvalidated characters allowed (its static config yields `spiffe:///ns/default/sa/default`).
   * Default false: the ID must also be a valid SPIFFE ID.
   */
  lenient?: boolean;
}

function shapeError(text: string, why: string): SpiffeError {
  return new SpiffeError(
    'ISTIO_IDENTITY_SHAPE',
    `invalid Istio identity ${JSON.stringify(text)}: ${why} (expected spiffe://<trust domain>/ns/<namespace>/sa/<service account>)`,
  );
}

/** Parse an Istio identity; throws `SpiffeError` (`ISTIO_IDENTITY_SHAPE` or a SPIFFE syntax code). */
export function parseIstioIdentity(text: string, options: ParseIstioOptions = {}): IstioIdentity {
  if (options.lenient) {
    if (!text.startsWith('spiffe://')) throw shapeError(text, 'it does not start with "spiffe://"');
    const parts = text.slice('spiffe://'.length).split('/');
    if (parts.length !== 5) throw shapeError(text, `it has ${parts.length} "/"-separated parts, not 5`);
    const [trustDomain, ns, namespace, sa, serviceAccount] = parts as [string, string, string, string, string];
    if (ns !== 'ns' || sa !== 'sa') throw shapeError(text, 'the literal segments "ns" and "sa" are not in place');
    return { trustDomain, namespace, serviceAccount };
  }
  const id = SpiffeId.parse(text);
  const segments = id.segments;
  if (segments.length !== 4) throw shapeError(text, `its path has ${segments.length} segments, not 4`);
  const [ns, namespace, sa, serviceAccount] = segments as [string, string, string, string];
  if (ns !== 'ns' || sa !== 'sa') throw shapeError(text, 'the literal segments "ns" and "sa" are not in place');
  return { trustDomain: id.trustDomain, namespace, serviceAccount };
}

/** `undefined` instead of an error. */
export function tryParseIstioIdentity(text: string, options: ParseIstioOptions = {}): IstioIdentity | undefined {
  try {
    return parseIstioIdentity(text, options);
  } catch {
    return undefined;
  }
}

/** Format without validation, exactly as ztunnel prints identities (empty parts stay empty). */
export function formatIstioIdentity(identity: IstioIdentity): string {
  return `spiffe://${identity.trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

/** Build a validated SpiffeId for an Istio identity. */
export function istioSpiffeId(identity: IstioIdentity): SpiffeId {
  return SpiffeId.fromSegments(identity.trustDomain, 'ns', identity.namespace, 'sa', identity.serviceAccount);
}

/** Exact equality of all three parts (ztunnel has no trust-domain aliasing). */
export function identityEquals(a: IstioIdentity, b: IstioIdentity): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}
