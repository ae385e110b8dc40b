import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('README example runs as written', () => {
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(
    readFileSync(join(import.meta.dirname, '../README.md'), 'utf8'),
  )?.[1];
  const file = join(import.meta.dirname, '../.readme-example.ts');
  writeFileSync(file, code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', file]).toString();
  } finally {
    rmSync(file, { force: true });
  }
  expect(out.split('\n').slice(0, 8)).toEqual([
    '43200000',
    'invalid TERMINATION_DEADLINE: "soon" is not a duration; use a number with a unit, e.g. 10s, 5m, 24h, 1h30m',
    'listeners closed',
    'draining',
    'GOAWAY sent',
    'released',
    "{ state: 'stopped', forced: 0 }",
    'literal-token',
  ]);
});
