// Turning a CA answer (`cert_chain`: leaf, intermediates..., roots) into a WorkloadCertificate, checking
// what ztunnel checks and a little more: the last element holds the trust anchors (possibly several)
// and a leaf-only answer is refused; the leaf must certify exactly the requested identity and our key;
// and the chain must lead to one of the returned roots (a truncated chain is refused).
import { X509Certificate, type KeyObject } from 'node:crypto';
import {
  readCertificateFields,
  SpiffeError,
  SpiffeId,
  splitPem,
  TrustBundle,
  verifyX509Svid,
} from '@ambient-ts/spiffe';
import type { WorkloadCertificate } from './ca-client.ts';
import { CertsError } from './errors.ts';
import { privateKeyToPem, spkiDer } from '@ambient-ts/pki';

function parseAll(text: string, where: string): X509Certificate[] {
  const blocks = splitPem(text);
  if (blocks.length === 0) {
    throw new CertsError('CA_RESPONSE_BAD_CERTIFICATE', `the CA answer's ${where} holds no PEM certificate`);
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CertsError('CA_RESPONSE_BAD_CERTIFICATE', `the CA answer's ${where} is not a parseable certificate`, {
        cause: error,
      });
    }
  });
}

export interface ChainCheckOptions {
  identity: string;
  chain: readonly string[];
  privateKey: KeyObject;
  /** Verification time; default now. */
  now?: number;
}

export function workloadCertificateFromChain(options: ChainCheckOptions): WorkloadCertificate {
  const { identity, chain } = options;
  if (chain.length === 0)
    throw new CertsError('CA_RESPONSE_EMPTY', `the CA answered with no certificate for ${identity}`);
  if (chain.length === 1) {
    throw new CertsError(
      'CA_RESPONSE_NO_ROOT',
      `the CA answer for ${identity} holds only a leaf: no root certificate present (the last element must hold the roots)`,
    );
  }
  const leaves = parseAll(chain[0]!, 'first element (leaf)');
  if (leaves.length !== 1) {
    throw new CertsError(
      'CA_RESPONSE_BAD_CERTIFICATE',
      `the CA answer's first element holds ${leaves.length} certificates, not one leaf`,
    );
  }
  const leaf = leaves[0]!;
  const intermediates = chain.slice(1, -1).flatMap((text, index) => parseAll(text, `element ${index + 1}`));
  const roots = parseAll(chain[chain.length - 1]!, 'last element (roots)');

  const uris = readCertificateFields(leaf).uriSans;
  if (uris.length !== 1 || uris[0] !== identity) {
    throw new CertsError(
      'CA_RESPONSE_WRONG_IDENTITY',
      `the CA issued a certificate for ${uris.length === 0 ? 'no identity' : uris.join(', ')} but ${identity} was requested`,
    );
  }
  if (!spkiDer(leaf.publicKey).equals(spkiDer(options.privateKey))) {
    throw new CertsError(
      'CA_RESPONSE_KEY_MISMATCH',
      `the CA's certificate for ${identity} is not for the key in our CSR`,
    );
  }
  const now = options.now ?? Date.now();
  try {
    const bundle = new TrustBundle(SpiffeId.parse(identity).trustDomain, roots);
    // A CA whose clock runs slightly ahead issues certificates valid from "the future": accept them
    // as ztunnel does (it refreshes on schedule); expiry is still checked.
    const at = Math.max(now, leaf.validFromDate.getTime());
    verifyX509Svid([leaf, ...intermediates], bundle, { mode: 'istio', now: at });
  } catch (error) {
    if (!SpiffeError.isSpiffeError(error)) throw error;
    const code =
      error.code === 'SVID_UNTRUSTED' || error.code === 'SVID_PATH_LENGTH'
        ? 'CA_RESPONSE_UNTRUSTED'
        : 'CA_RESPONSE_BAD_CERTIFICATE';
    throw new CertsError(code, `the CA's certificate chain for ${identity} is unusable: ${error.message}`, {
      cause: error,
      reason: error.code,
    });
  }
  return {
    identity,
    certChainPem: [leaf, ...intermediates].map((cert) => cert.toString()).join(''),
    privateKeyPem: privateKeyToPem(options.privateKey),
    rootCertsPem: roots.map((root) => root.toString()).join(''),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
  };
}
