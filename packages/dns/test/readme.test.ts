import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

const hasDig = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

it.skipIf(!hasDig)(
  `README example runs and prints what it promises${hasDig ? '' : ' (skipped: needs dig)'}`,
  async () => {
    const out = await runReadmeExample(join(import.meta.dirname, '..'));
    expect(out).toContain('echo: A 10.96.0.10 (authoritative)');
    expect(out).toContain('echo.default.default.svc.cluster.local: CNAME echo.default, A 10.96.0.10 (authoritative)');
    expect(out).toContain('example.org: A 192.0.2.1 (forwarded)');
  },
);
