// The README example must run as written.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs as written', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
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
