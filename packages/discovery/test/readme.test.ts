// The README example must run as written.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('README example runs and prints what it promises', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run from inside the package so '@ambient-ts/discovery' resolves like an installed dependency.
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  writeFileSync(join(dir, 'example.ts'), code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], {
      cwd: dir,
      timeout: 30_000,
    }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(out).toContain('workloads 1 services 1');
  expect(out).toContain('hbone 10.0.0.7:8080 spiffe://cluster.local/ns/default/sa/default');
  expect(out).toContain('{"name":"p","namespace":"ns","action":"DENY"}');
});
