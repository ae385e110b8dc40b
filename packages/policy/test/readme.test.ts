// The README example must run as written.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('README example runs and prints what it promises', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Run from inside the package so '@ambient-ts/policy' resolves like an installed dependency.
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  writeFileSync(join(dir, 'example.ts'), code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], { cwd: dir }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = out.split('\n');
  expect(JSON.parse(lines[0]!)).toEqual({
    name: 'frontend-only',
    namespace: 'shop',
    scope: 'WORKLOAD_SELECTOR',
    rules: [{ clauses: [{ matches: [{ namespaces: [{ exact: 'ops' }] }] }] }],
  });
  expect(lines[1]).toContain('spec.rules[0]: omitted (HTTP attributes methods');
  expect(lines[2]).toBe('allowed by: shop/frontend-only');
  expect(lines[3]).toBe('allow policies exist, but none allowed');
  expect(lines[4]).toBe('authenticated https://idp.example/alice');
  expect(lines[5]).toBe('true');
  const promised = /The last line prints why[^\n]*\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(out).toContain(promised!.trim());
});
