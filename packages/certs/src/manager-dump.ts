// The certificate manager's entries in the shape of ztunnel's /config_dump `certificates` list.
import { X509Certificate } from 'node:crypto';
import { splitPem } from '@ambient-ts/spiffe';

export interface CertificateDumpEntry {
  /** Base64 of the PEM text (as ztunnel prints it). */
  pem: string;
  /** Decimal, as ztunnel prints it. */
  serialNumber: string;
  /** RFC 3339, seconds precision. */
  validFrom: string;
  expirationTime: string;
}

export interface CertificateDump {
  identity: string;
  /** `Initializing`, `Available`, or `Unavailable: <error>`. */
  state: string;
  /** Leaf first, then intermediates. */
  certChain: CertificateDumpEntry[];
  rootCerts: CertificateDumpEntry[];
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const cache = new Map<string, CertificateDumpEntry>();

function dumpOne(pem: string): CertificateDumpEntry {
  const cached = cache.get(pem);
  if (cached) return cached;
  const cert = new X509Certificate(pem);
  const entry = {
    pem: Buffer.from(cert.toString()).toString('base64'),
    serialNumber: BigInt(`0x${cert.serialNumber}`).toString(10),
    validFrom: rfc3339(cert.validFromDate),
    expirationTime: rfc3339(cert.validToDate),
  };
  if (cache.size > 4096) cache.clear(); // bounded: entries are cheap to rebuild
  cache.set(pem, entry);
  return entry;
}

export function dumpCertificates(pem: string | undefined): CertificateDumpEntry[] {
  return pem === undefined ? [] : splitPem(pem).map(dumpOne);
}
