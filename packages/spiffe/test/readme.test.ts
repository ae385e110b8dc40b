// The README example must run as written.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/certgen';

it('README example runs and prints what it promises', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run from inside the package so '@ambient-ts/spiffe' resolves like an installed dependency.
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  mkdirSync(join(dir, 'certs'));
  const root = createCa({ commonName: 'readme root' });
  const leaf = createLeaf({ issuer: root, uris: ['spiffe://cluster.local/ns/default/sa/web'] });
  writeFileSync(join(dir, 'certs/root.pem'), root.certPem);
  writeFileSync(join(dir, 'certs/web.pem'), leaf.certPem);
  writeFileSync(join(dir, 'example.ts'), code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], { cwd: dir }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(out).toContain('cluster.local /ns/default/sa/web');
  expect(out).toContain('\nweb\n');
  expect(out).toContain('verified spiffe://cluster.local/ns/default/sa/web through 2 certificates');
  expect(out).toContain('SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
});
