import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('certgen', () => {
  it('the CLI writes a chain that openssl verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgen-'));
    execFileSync(process.execPath, [
      '--conditions=ambient-ts-source',
      join(import.meta.dirname, '../src/cli.ts'),
      '--out',
      dir,
      '--id',
      'spiffe://cluster.local/ns/a/sa/web',
    ]);
    const chain = join(dir, 'web.pem');
    const out = execFileSync('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'root.pem'),
      '-untrusted',
      chain,
      chain,
    ]).toString();
    expect(out).toContain(': OK');
    expect(readFileSync(join(dir, 'web-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
  });

  it('the CLI makes P-384 chains signed with SHA-384, and refuses an unknown key type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgen-'));
    const cli = ['--conditions=ambient-ts-source', join(import.meta.dirname, '../src/cli.ts'), '--out', dir];
    execFileSync(process.execPath, [...cli, '--key', 'ec-p384', '--id', 'spiffe://cluster.local/ns/a/sa/web']);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'web.pem')]).toString();
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA384/);
    const refused = spawnSync(process.execPath, [...cli, '--key', 'ed25519']);
    expect(refused.status).toBe(2);
    expect(refused.stderr.toString()).toContain('--key must be ec-p256, ec-p384 or rsa-2048');
  });
});
