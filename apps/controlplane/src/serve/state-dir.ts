// The state directory: what must survive restarts (the CA root and the token signing key) and what proxies
// read (root-cert.pem, tokens/). Secrets are written 0600 and every file atomically (write + rename), so a
// proxy re-reading its token never sees half a file.
import { generateKeyPair } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateAuthority, CaError } from '@ambient-ts/ca';
import { ControlPlaneError } from '../errors.ts';

/** File names inside the state directory. */
export const STATE_FILES = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  rootCert: 'root-cert.pem',
  tokenKey: 'token-key.pem',
  tokens: 'tokens',
  info: 'controlplane.json',
} as const;

let tmpCounter = 0;

/** Write `content` to `path` through a temporary file and rename, with `mode`. */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  try {
    await writeFile(tmp, content, { mode });
    await chmod(tmp, mode); // the umask may have narrowed or (for secrets) the file may have pre-existed
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ControlPlaneError('STATE_INVALID', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function prepareStateDir(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, STATE_FILES.tokens), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ControlPlaneError(
      'STATE_INVALID',
      `cannot create the state directory ${dir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

export interface LoadedAuthority {
  readonly authority: CertificateAuthority;
  /** True when this start created the root (proxies need the new root-cert.pem). */
  readonly created: boolean;
  /** Things to tell the operator (e.g. a key readable by others). */
  readonly warnings: readonly string[];
}

/**
 * The mesh CA: reuse `ca-cert.pem` + `ca-key.pem`, or create and save a root when neither exists. A
 * leftover key without its certificate (a start interrupted between the two writes) is replaced.
 */
export async function loadOrCreateAuthority(dir: string, trustDomain: string): Promise<LoadedAuthority> {
  const certPath = join(dir, STATE_FILES.caCert);
  const keyPath = join(dir, STATE_FILES.caKey);
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  const warnings: string[] = [];
  if (certPem !== undefined) {
    if (keyPem === undefined)
      throw new ControlPlaneError(
        'STATE_INVALID',
        `${certPath} exists but ${keyPath} does not: restore the key, or delete ${certPath} to create a new root (every proxy then needs the new root-cert.pem)`,
      );
    const mode = (await stat(keyPath)).mode & 0o777;
    if ((mode & 0o077) !== 0)
      warnings.push(`${keyPath} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
    try {
      return { authority: CertificateAuthority.load({ trustDomain, certPem, keyPem }), created: false, warnings };
    } catch (error) {
      const why = CaError.isCaError(error) ? `${error.code}: ${error.message}` : (error as Error).message;
      throw new ControlPlaneError(
        'STATE_INVALID',
        `the CA in ${dir} cannot be used (${why}); fix it, or delete ${STATE_FILES.caCert} and ${STATE_FILES.caKey} to create a new root`,
        { cause: error },
      );
    }
  }
  const authority = await CertificateAuthority.create({ trustDomain, commonName: 'ambient-ts local mesh root' });
  const material = authority.exportPem();
  await writeFileAtomic(keyPath, material.keyPem, 0o600);
  await writeFileAtomic(certPath, material.certPem, 0o644);
  return { authority, created: true, warnings };
}

/** The ES256 key node tokens are signed with, kept so tokens stay valid across restarts. */
export async function loadOrCreateTokenKey(dir: string): Promise<string> {
  const path = join(dir, STATE_FILES.tokenKey);
  const existing = await readIfExists(path);
  if (existing !== undefined) return existing;
  const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await writeFileAtomic(path, pem, 0o600);
  return pem;
}
