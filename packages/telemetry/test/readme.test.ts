import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('README example runs and prints the metric line', () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
  const code = /<!-- example -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = join(import.meta.dirname, '../.readme-example.ts');
  writeFileSync(file, code!);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--conditions=ambient-ts-source', file]).toString();
  } finally {
    rmSync(file, { force: true });
  }
  expect(out).toMatch(/"scope":"access","message":"connection complete","src.addr":"10.0.0.1:4000"/);
  expect(out).toMatch(/^istio_tcp_connections_opened_total\{reporter="source",source_workload="client".*\} 1$/m);
});
