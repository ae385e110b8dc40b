import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';
import { hasIptables, rootTierMissing } from './namespaces.ts';

const missing = rootTierMissing || (hasIptables ? '' : 'needs iptables');

it.skipIf(missing !== '')(`README example runs and prints what it promises (${missing || 'root'})`, async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  expect(out).toContain('captured a connection for 10.0.3.4:80 (SO_ORIGINAL_DST), mark 1337');
  expect(out).toContain('client got: hello from the proxy, you wanted 10.0.3.4:80');
});
