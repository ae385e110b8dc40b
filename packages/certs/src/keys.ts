// Which keys the CA client and the CA let their users choose, and loading a PEM private key. Key
// generation, export and description are @ambient-ts/pki's.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CertsError } from './errors.ts';

/** The key a CA client generates per certificate (or a CA for itself). ECDSA P-256, as ztunnel, is the default. */
export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ec-p256', 'rsa-2048'];

export function checkKeyAlgorithm(value: unknown, where: string): KeyAlgorithm {
  if (value === undefined) return 'ec-p256';
  if (keyAlgorithms.includes(value as KeyAlgorithm)) return value as KeyAlgorithm;
  throw new CertsError(
    'INVALID_OPTIONS',
    `${where}: keyAlgorithm ${JSON.stringify(value)} is not supported; use ${keyAlgorithms.map((a) => `"${a}"`).join(' or ')}`,
  );
}

export function loadPrivateKey(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new CertsError('CA_BAD_PEM', `${where} is not a readable private key (PEM, PKCS#8 or traditional)`, {
      cause: error,
    });
  }
}
