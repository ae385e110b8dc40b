// The keys a CA makes for itself and for the server certificates it issues, and loading PEM keys.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SpiffeId } from '@ambient-ts/spiffe';
import { pickKeyAlgorithm, type KeyAlgorithm } from '@ambient-ts/pki';
import { CaError } from './errors.ts';

/** The keys a CA generates: ECDSA P-256 (default) or RSA-2048. */
export type CaKeyAlgorithm = Extract<KeyAlgorithm, 'ec-p256' | 'rsa-2048'>;

const choices: readonly CaKeyAlgorithm[] = ['ec-p256', 'rsa-2048'];

export function caKeyAlgorithm(value: unknown, where: string): CaKeyAlgorithm {
  const picked = pickKeyAlgorithm(value, choices);
  if ('problem' in picked) throw new CaError('INVALID_OPTIONS', `${where}: ${picked.problem}`);
  return picked.algorithm;
}

export function loadPrivateKey(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new CaError('CA_BAD_PEM', `${where} is not a readable private key (PEM, PKCS#8 or traditional)`, {
      cause: error,
    });
  }
}

/** A workload SPIFFE ID (one with a path), or IDENTITY_INVALID. */
export function workloadIdentity(identity: string): string {
  if (SpiffeId.tryParse(identity)?.isTrustDomainId === false) return identity;
  throw new CaError(
    'IDENTITY_INVALID',
    `${JSON.stringify(identity)} is not a SPIFFE ID of a workload (expected spiffe://<trust domain>/ns/<namespace>/sa/<service account>)`,
  );
}
