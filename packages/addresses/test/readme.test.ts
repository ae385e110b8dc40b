import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('peer 10.1.2.3 in 10.0.0.0/8: true');
  expect(out).toContain('strict: not an address');
  expect(out).toContain('socket says 127.0.0.1');
  expect(out).toContain('[2001:db8::1]:15008');
  expect(out).toContain('[fd00::7]:8080 10.0.0.7:8080');
  expect(out).toContain('IPv6 addresses must be in brackets');
});
