// The README example must run as written and print what the README says it prints.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('README example issues, rotates, and shows a refusal', async () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run from inside the package so '@ambient-ts/certs' resolves like an installed dependency.
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  let out: string;
  try {
    writeFileSync(join(dir, 'example.ts'), code!);
    ({ stdout: out } = await promisify(execFile)(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], {
      cwd: dir,
      timeout: 60_000,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = out.trim().split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/^certificate for spiffe:\/\/cluster\.local\/ns\/default\/sa\/web until \S+Z$/);
  expect(lines[1]).toMatch(/^certificate for spiffe:\/\/cluster\.local\/ns\/default\/sa\/web until \S+Z$/);
  expect(lines.slice(2)).toEqual(['rotated: true Available', 'CA_PERMISSION_DENIED DENIED_NOT_ON_NODE']);
});
