// The certificate fields node:crypto does not expose (key usage bits, basic constraints, URI SANs),
// read with @peculiar/asn1-x509. node's subjectAltName string is not safe to split (a URI may hold ", ").
import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { KeyUsageFlags } from '@peculiar/asn1-x509';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  KeyUsage,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { SpiffeError } from './errors.ts';

export type KeyUsageName = keyof typeof KeyUsageFlags;

export const extKeyUsageOids = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

export interface CertificateFields {
  uriSans: string[];
  subjectAltNameCritical: boolean;
  basicConstraints?: { ca: boolean; pathLength?: number; critical: boolean };
  keyUsage?: { usages: Set<KeyUsageName>; critical: boolean };
  extKeyUsage?: string[];
}

const cache = new WeakMap<X509Certificate, CertificateFields>();

export function readFields(cert: X509Certificate): CertificateFields {
  const cached = cache.get(cert);
  if (cached) return cached;
  let parsed: Certificate;
  try {
    parsed = AsnConvert.parse(cert.raw, Certificate);
  } catch (error) {
    throw new SpiffeError('SVID_BAD_CERTIFICATE', `certificate ${cert.serialNumber} has malformed DER`, {
      cause: error,
    });
  }
  const fields: CertificateFields = { uriSans: [], subjectAltNameCritical: false };
  for (const extension of parsed.tbsCertificate.extensions ?? []) {
    const value = extension.extnValue.buffer;
    switch (extension.extnID) {
      case id_ce_subjectAltName: {
        const names = AsnConvert.parse(value, SubjectAlternativeName);
        fields.uriSans = names.flatMap((name) =>
          name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [],
        );
        fields.subjectAltNameCritical = extension.critical;
        break;
      }
      case id_ce_basicConstraints: {
        const constraints = AsnConvert.parse(value, BasicConstraints);
        fields.basicConstraints = { ca: constraints.cA, critical: extension.critical };
        if (constraints.pathLenConstraint !== undefined)
          fields.basicConstraints.pathLength = constraints.pathLenConstraint;
        break;
      }
      case id_ce_keyUsage: {
        const usage = AsnConvert.parse(value, KeyUsage);
        fields.keyUsage = { usages: new Set(usage.toJSON() as KeyUsageName[]), critical: extension.critical };
        break;
      }
      case id_ce_extKeyUsage:
        fields.extKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
        break;
    }
  }
  cache.set(cert, fields);
  return fields;
}
