// The README example must run as written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
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
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const promised = /The last line prints why[^\n]*\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(out).toContain(promised!.trim());
});
