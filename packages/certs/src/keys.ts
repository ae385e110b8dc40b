// Key pairs come from node:crypto (native, generated on the libuv thread pool so the event loop never
// stalls on RSA prime search). ECDSA P-256 is the default, as Istio's ztunnel uses.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CertsError } from './errors.ts';

export type KeyAlgorithm = 'ec-p256' | 'rsa-2048';

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ec-p256', 'rsa-2048'];

const generate = promisify(generateKeyPair);

export function checkKeyAlgorithm(value: unknown, where: string): KeyAlgorithm {
  if (value === undefined) return 'ec-p256';
  if (keyAlgorithms.includes(value as KeyAlgorithm)) return value as KeyAlgorithm;
  throw new CertsError(
    'INVALID_OPTIONS',
    `${where}: keyAlgorithm ${JSON.stringify(value)} is not supported; use ${keyAlgorithms.map((a) => `"${a}"`).join(' or ')}`,
  );
}

/** A fresh private key (its public half is derived from it). */
export async function generatePrivateKey(algorithm: KeyAlgorithm = 'ec-p256'): Promise<KeyObject> {
  const pair =
    algorithm === 'ec-p256'
      ? await generate('ec', { namedCurve: 'P-256' })
      : await generate('rsa', { modulusLength: 2048 });
  return pair.privateKey;
}

/** PKCS#8 PEM, the form ztunnel keeps and node:tls accepts. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
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

/** DER SubjectPublicKeyInfo of a key (public or private). */
export function spkiDer(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}

export interface KeyDescription {
  kind: 'ec' | 'rsa';
  /** Curve name for EC, modulus bits for RSA. */
  detail: string;
  /** Digest to sign with: matches the key strength (P-384 signs with SHA-384). */
  hash: 'sha256' | 'sha384';
}

/**
 * The keys we accept for workloads and CAs: EC P-256/P-384 and RSA 2048-8192 bits. Anything else
 * (Ed25519, DSA, short RSA) is refused with KEY_UNSUPPORTED so interop with Istio stays possible.
 */
export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return { kind: 'ec', detail: 'P-256', hash: 'sha256' };
    if (curve === 'secp384r1' || curve === 'P-384') return { kind: 'ec', detail: 'P-384', hash: 'sha384' };
    throw new CertsError('KEY_UNSUPPORTED', `EC curve ${curve ?? 'unknown'} is not supported; use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits >= 2048 && bits <= 8192) return { kind: 'rsa', detail: String(bits), hash: 'sha256' };
    throw new CertsError('KEY_UNSUPPORTED', `RSA keys of ${bits} bits are not supported; use 2048 to 8192 bits`);
  }
  throw new CertsError(
    'KEY_UNSUPPORTED',
    `${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use ECDSA P-256 (default) or RSA 2048`,
  );
}
