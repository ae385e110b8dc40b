import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';
import { isRoot } from '../src/index.ts';

it.skipIf(!isRoot)('README example runs and prints what it promises (needs root)', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('10.0.2.2 -> 10.0.3.3:8080 got "echo:hello"');
  expect(out).toMatch(/iptables flavour: (nft|legacy), nat rules: 8/);
  expect(out).toContain('captured: got "ztunnel:hello" at 127.0.0.1:15001');
});
