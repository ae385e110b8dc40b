// The README example must run as written.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('README example runs and prints what it promises', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the app directory, '@ambient-ts/waypoint' resolves to itself through package.json "exports".
  const dir = mkdtempSync(join(import.meta.dirname, '../.readme-'));
  writeFileSync(join(dir, 'example.ts'), code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', 'example.ts'], { cwd: dir }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(out).toContain('GET /hello -> 200 echo-v1 saw GET /hello');
  expect(out).toContain('POST /hello -> 403 RBAC: access denied');
  expect(out).toContain('istio_requests_total response_code=200 1');
  expect(out).toContain('istio_requests_total response_code=403 1');
});
