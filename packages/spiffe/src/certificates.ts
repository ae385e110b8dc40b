// Normalising the many shapes a certificate chain arrives in (PEM, DER, node:tls peer objects).
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { SpiffeError } from './errors.ts';

/** One certificate or a chain (leaf first) in any common shape. */
export type CertificateInput =
  | string
  | Uint8Array
  | X509Certificate
  | PeerCertificate
  | DetailedPeerCertificate
  | readonly (string | Uint8Array | X509Certificate | PeerCertificate)[];

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Split PEM text holding any number of certificates, in order. */
export function splitPem(pem: string): string[] {
  return pem.match(pemBlock) ?? [];
}

function parseOne(value: string | Uint8Array, where: string): X509Certificate {
  try {
    return new X509Certificate(typeof value === 'string' ? value : Buffer.from(value));
  } catch (error) {
    throw new SpiffeError('SVID_BAD_CERTIFICATE', `${where} is not a parseable X.509 certificate`, { cause: error });
  }
}

function isPeerCertificate(value: object): value is PeerCertificate {
  return 'raw' in value && Buffer.isBuffer((value as PeerCertificate).raw);
}

function fromPeer(peer: PeerCertificate | DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  let current: PeerCertificate | undefined = peer;
  const seen = new Set<string>();
  // getPeerCertificate(true) links issuers; a self-signed root links to itself.
  while (current && isPeerCertificate(current) && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(parseOne(current.raw, `certificate ${out.length} of the peer chain`));
    current = (current as DetailedPeerCertificate).issuerCertificate;
  }
  return out;
}

/** Turn any supported input into X509Certificate objects, leaf first. */
export function toCertificates(input: CertificateInput): X509Certificate[] {
  if (typeof input === 'string') {
    const blocks = splitPem(input);
    if (blocks.length === 0) {
      throw new SpiffeError('SVID_BAD_CERTIFICATE', 'no "-----BEGIN CERTIFICATE-----" block found in the PEM text');
    }
    return blocks.map((block, index) => parseOne(block, `PEM certificate ${index}`));
  }
  if (input instanceof X509Certificate) return [input];
  if (input instanceof Uint8Array) {
    const text = Buffer.from(input).toString('latin1');
    return text.includes('-----BEGIN CERTIFICATE-----') ? toCertificates(text) : [parseOne(input, 'DER certificate')];
  }
  if (Array.isArray(input)) return (input as CertificateInput[]).flatMap((item) => toCertificates(item));
  if (isPeerCertificate(input as object)) return fromPeer(input as PeerCertificate);
  throw new SpiffeError(
    'SVID_BAD_CERTIFICATE',
    'unsupported certificate input (expected PEM, DER, X509Certificate or a tls peer certificate)',
  );
}
