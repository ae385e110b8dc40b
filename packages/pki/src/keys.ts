// Key pairs come from node:crypto (native; the async form runs on the libuv thread pool so the event
// loop never stalls on RSA prime search). ECDSA P-256 is the default, as Istio's ztunnel uses.
import { createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { PkiError } from './errors.ts';

/** Keys this package generates. (What a CA client lets its users choose is up to that client.) */
export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'rsa-2048';

export const keyAlgorithms: readonly KeyAlgorithm[] = ['ec-p256', 'ec-p384', 'rsa-2048'];

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return keyAlgorithms.includes(value as KeyAlgorithm);
}

/**
 * `value` as one of `allowed` (`ec-p256` when undefined), or a message naming the choices: for options
 * that let a user pick a key type, each package throwing its own error.
 */
export function pickKeyAlgorithm<T extends KeyAlgorithm>(
  value: unknown,
  allowed: readonly T[],
): { algorithm: T } | { problem: string } {
  const chosen = value ?? 'ec-p256';
  if (allowed.includes(chosen as T)) return { algorithm: chosen as T };
  const names = allowed.map((a) => `"${a}"`).join(' or ');
  return { problem: `keyAlgorithm ${JSON.stringify(value)} is not supported; use ${names}` };
}

const generate = promisify(generateKeyPair);

function unsupported(algorithm: never): PkiError {
  return new PkiError(
    'INVALID_INPUT',
    `key algorithm ${JSON.stringify(algorithm)} is not supported; use ${keyAlgorithms.map((a) => `"${a}"`).join(', ')}`,
  );
}

/** A fresh private key (its public half is derived from it). */
export async function generatePrivateKey(algorithm: KeyAlgorithm = 'ec-p256'): Promise<KeyObject> {
  if (algorithm === 'ec-p256') return (await generate('ec', { namedCurve: 'P-256' })).privateKey;
  if (algorithm === 'ec-p384') return (await generate('ec', { namedCurve: 'P-384' })).privateKey;
  if (algorithm === 'rsa-2048') return (await generate('rsa', { modulusLength: 2048 })).privateKey;
  throw unsupported(algorithm);
}

/** The same, blocking: for fixtures and tools, never on a serving path. */
export function generatePrivateKeySync(algorithm: KeyAlgorithm = 'ec-p256'): KeyObject {
  if (algorithm === 'ec-p256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (algorithm === 'ec-p384') return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  if (algorithm === 'rsa-2048') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  throw unsupported(algorithm);
}

/** PKCS#8 PEM, the form ztunnel keeps and node:tls accepts. */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
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
    throw new PkiError('KEY_UNSUPPORTED', `EC curve ${curve ?? 'unknown'} is not supported; use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits >= 2048 && bits <= 8192) return { kind: 'rsa', detail: String(bits), hash: 'sha256' };
    throw new PkiError('KEY_UNSUPPORTED', `RSA keys of ${bits} bits are not supported; use 2048 to 8192 bits`);
  }
  throw new PkiError(
    'KEY_UNSUPPORTED',
    `${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use ECDSA P-256 (default) or RSA 2048`,
  );
}
