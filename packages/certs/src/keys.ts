// Which keys the CA client generates per certificate. Key generation itself is @ambient-ts/pki's.
import { pickKeyAlgorithm, type KeyAlgorithm as PkiKeyAlgorithm } from '@ambient-ts/pki';
import { CertsError } from './errors.ts';

/** The key a CA client generates per certificate. ECDSA P-256, as ztunnel, is the default. */
export type KeyAlgorithm = Extract<PkiKeyAlgorithm, 'ec-p256' | 'rsa-2048'>;

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ec-p256', 'rsa-2048'];

export function checkKeyAlgorithm(value: unknown, where: string): KeyAlgorithm {
  const picked = pickKeyAlgorithm(value, keyAlgorithms);
  if ('problem' in picked) throw new CertsError('INVALID_OPTIONS', `${where}: ${picked.problem}`);
  return picked.algorithm;
}
