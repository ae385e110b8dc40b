import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCa, createChain, createLeaf } from '../src/index.ts';

describe('certgen', () => {
  it('builds a chain whose signatures, names and extensions check out', () => {
    const chain = createChain('spiffe://cluster.local/ns/a/sa/b');
    expect(chain.leaf.cert.verify(chain.intermediate.cert.publicKey)).toBe(true);
    expect(chain.intermediate.cert.verify(chain.root.cert.publicKey)).toBe(true);
    expect(chain.leaf.cert.checkIssued(chain.intermediate.cert)).toBe(true);
    expect(chain.root.cert.ca).toBe(true);
    expect(chain.leaf.cert.ca).toBe(false);
    expect(chain.leaf.cert.subject).toBeUndefined(); // empty subject, as Istio's CA issues leaves
    expect(chain.leaf.cert.subjectAltName).toBe('URI:spiffe://cluster.local/ns/a/sa/b');
    expect(chain.leaf.cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('honours validity, key algorithm and CA options', () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-01-02T00:00:00Z');
    const root = createCa({ commonName: 'rsa root', keyAlgorithm: 'rsa-2048' });
    const leaf = createLeaf({
      issuer: root,
      uris: ['spiffe://x/y'],
      notBefore,
      notAfter,
      isCa: true,
      keyUsage: ['keyCertSign', 'digitalSignature'],
    });
    expect(root.key.asymmetricKeyType).toBe('rsa');
    expect(leaf.cert.validFromDate.toISOString()).toBe(notBefore.toISOString());
    expect(leaf.cert.validToDate.toISOString()).toBe(notAfter.toISOString());
    expect(leaf.cert.ca).toBe(true);
    expect(leaf.cert.verify(root.cert.publicKey)).toBe(true);
  });

  it('the CLI writes a chain that openssl verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certgen-'));
    execFileSync(process.execPath, [
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
});
