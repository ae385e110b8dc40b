// SPIFFE checks on a TLS peer, in place of hostname checks (which mean nothing for SPIFFE and must
// be replaced, never just disabled). OpenSSL has already validated the chain against our roots; this
// re-validates it as an X.509-SVID and applies ztunnel's identity rules.
import type { PeerCertificate } from 'node:tls';
import { readCertificateFields, SpiffeError, SpiffeId, toCertificates, verifyX509Svid } from '@ambient-ts/spiffe';
import { HboneError } from './errors.ts';
import type { CredentialInfo } from './tls-config.ts';

/** What the client requires of the server's leaf. */
export type PeerExpectation =
  /** Some URI SAN equals one of these exactly (ztunnel's outbound rule). */
  | { readonly kind: 'identities'; readonly identities: readonly string[] }
  /** Any SVID of this trust domain (the server's inbound rule; the CLI without --expect-identity). */
  | { readonly kind: 'trust-domain'; readonly trustDomain: string };

function mapSpiffeError(error: unknown, who: string): HboneError {
  if (HboneError.isHboneError(error)) return error;
  if (SpiffeError.isSpiffeError(error)) {
    const code =
      error.code === 'SVID_TRUST_DOMAIN_MISMATCH' || error.code === 'SVID_NO_BUNDLE'
        ? 'TRUST_DOMAIN_MISMATCH'
        : 'PEER_CERTIFICATE_INVALID';
    return new HboneError(code, `${who} certificate rejected (${error.code}): ${error.message}`, { cause: error });
  }
  return new HboneError('PEER_CERTIFICATE_INVALID', `${who} certificate rejected: ${String(error)}`, { cause: error });
}

function leafUris(peer: PeerCertificate): { chain: ReturnType<typeof toCertificates>; uris: string[] } {
  const chain = toCertificates(peer);
  if (chain.length === 0) throw new HboneError('PEER_CERTIFICATE_INVALID', 'the peer presented no certificate');
  return { chain, uris: readCertificateFields(chain[0]!).uriSans };
}

/**
 * Server side: the client's SVID must chain to our roots and carry a SPIFFE ID in our own trust domain.
 * `chainVerified` says node:tls (OpenSSL) already validated the path to our roots: on the server side
 * Node 24 exposes only the client's leaf, not the intermediates it sent, so when our own path building
 * cannot finish for lack of intermediates, OpenSSL's result stands — every leaf rule (SPIFFE ID, trust
 * domain, not a CA, EKU, validity) has been checked by then. Returns the client's SPIFFE ID.
 */
export function verifyClientPeer(peer: PeerCertificate, own: CredentialInfo, chainVerified = false): string {
  let uris: string[] = [];
  try {
    const leaf = leafUris(peer);
    uris = leaf.uris;
    const verified = verifyX509Svid(leaf.chain, own.bundle(own.trustDomain), {
      mode: 'istio',
      purpose: 'client',
      expectedTrustDomain: own.trustDomain,
    });
    return verified.spiffeId.toString();
  } catch (error) {
    if (chainVerified && SpiffeError.isSpiffeError(error) && error.code === 'SVID_UNTRUSTED') {
      return uris
        .map((uri) => SpiffeId.tryParse(uri))
        .find((id) => id !== undefined)!
        .toString();
    }
    throw mapSpiffeError(error, 'client');
  }
}

/**
 * Client side: the server's SVID must chain to our roots and match the expectation. Returns the server
 * identity that matched (or the SVID's ID for a trust-domain expectation).
 */
export function verifyServerPeer(peer: PeerCertificate, own: CredentialInfo, expect: PeerExpectation): string {
  let uris: string[];
  let verifiedId: string;
  try {
    const leaf = leafUris(peer);
    uris = leaf.uris;
    const first = uris.map((uri) => SpiffeId.tryParse(uri)).find((id) => id !== undefined);
    const trustDomain = first?.trustDomain ?? own.trustDomain;
    verifiedId = verifyX509Svid(leaf.chain, own.bundle(trustDomain), {
      mode: 'istio',
      purpose: 'server',
    }).spiffeId.toString();
  } catch (error) {
    throw mapSpiffeError(error, 'server');
  }
  if (expect.kind === 'trust-domain') {
    if (SpiffeId.parse(verifiedId).trustDomain !== expect.trustDomain) {
      throw new HboneError(
        'PEER_IDENTITY_MISMATCH',
        `the server presented ${verifiedId}, which is not in trust domain "${expect.trustDomain}"`,
      );
    }
    return verifiedId;
  }
  const match = uris.find((uri) => expect.identities.includes(uri));
  if (match === undefined) {
    throw new HboneError(
      'PEER_IDENTITY_MISMATCH',
      `the server presented ${uris.join(', ') || 'no URI SAN'}, expected one of ${expect.identities.join(', ')}`,
    );
  }
  return match;
}
