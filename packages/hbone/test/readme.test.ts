// The README example must run as written.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/certgen';
import { retry } from './fixtures.ts';

it('README example runs and prints what it promises', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run from inside the package so '@ambient-ts/hbone' resolves like an installed dependency.
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  mkdirSync(join(dir, 'certs'));
  // The layout `npx certgen --out certs --id .../sa/echo --id .../sa/sleep` writes.
  const root = retry(() => createCa({ commonName: 'readme root' }));
  const intermediate = retry(() => createCa({ commonName: 'readme intermediate', issuer: root }));
  writeFileSync(join(dir, 'certs/root.pem'), root.certPem);
  for (const name of ['echo', 'sleep']) {
    const leaf = retry(() =>
      createLeaf({ issuer: intermediate, uris: [`spiffe://cluster.local/ns/default/sa/${name}`] }),
    );
    writeFileSync(join(dir, `certs/${name}.pem`), leaf.certPem + intermediate.certPem);
    writeFileSync(join(dir, `certs/${name}-key.pem`), leaf.keyPem);
  }
  writeFileSync(join(dir, 'example.ts'), code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], { cwd: dir }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(out).toContain('CONNECT 10.0.0.7:8080 from spiffe://cluster.local/ns/default/sa/sleep');
  expect(out).toContain('echoed: hello');
  expect(out).toContain('TUNNEL_REFUSED 503');
});
