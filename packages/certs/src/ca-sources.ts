// Where the CA client gets its channel root and its bearer token, read afresh for every request as
// ztunnel does: a rotated root file rebuilds the channel, a rotated token file is picked up at once.
import { readFile } from 'node:fs/promises';
import { CertsError } from './errors.ts';

/** `SYSTEM` (OS roots), inline PEM, or a file path (re-read before each request). */
export type RootCertSource = string;

export type RootCerts = { kind: 'system' } | { kind: 'pem'; pem: string };

/** A literal token, a file re-read on every request, or a function called on every request. */
export type TokenSource = string | { file: string } | (() => string | Promise<string>);

export function isInlinePem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/**
 * Current roots for the channel. For a file that cannot be read, `previous` (the roots the channel was
 * built with) is kept, as ztunnel keeps its old channel when a rebuild fails.
 */
export async function readRootCerts(source: RootCertSource, previous: RootCerts | undefined): Promise<RootCerts> {
  if (source === 'SYSTEM') return { kind: 'system' };
  if (isInlinePem(source)) return { kind: 'pem', pem: source };
  try {
    const pem = await readFile(source, 'utf8');
    if (!isInlinePem(pem)) throw new Error('the file holds no PEM block');
    return { kind: 'pem', pem };
  } catch (error) {
    if (previous) return previous;
    throw new CertsError(
      'CA_ROOT_UNREADABLE',
      `cannot read the CA root certificate file ${source}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export async function readToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  try {
    const token =
      typeof source === 'string'
        ? source
        : typeof source === 'function'
          ? await source()
          : await readFile(source.file, 'utf8');
    return token.trim();
  } catch (error) {
    const where = typeof source === 'object' ? ` from ${source.file}` : '';
    throw new CertsError(
      'CA_TOKEN_UNREADABLE',
      `cannot read the CA bearer token${where}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
