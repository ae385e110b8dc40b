import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('reply: pingping');
  expect(out).toContain('closed by policy: 1');
  expect(out).toContain(
    "closed (policy): 4 bytes up, 8 down { error: 'connection closed due to policy change', flags: 'DENY' }",
  );
});
