// The README example must run as written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'), {
    prepare: (dir) => {
      mkdirSync(join(dir, 'certs'));
      const root = createCa({ commonName: 'readme root' });
      const leaf = createLeaf({ issuer: root, uris: ['spiffe://cluster.local/ns/default/sa/web'] });
      writeFileSync(join(dir, 'certs/root.pem'), root.certPem);
      writeFileSync(join(dir, 'certs/web.pem'), leaf.certPem);
    },
  });
  expect(out).toContain('cluster.local /ns/default/sa/web');
  expect(out).toContain('\nweb\n');
  expect(out).toContain('verified spiffe://cluster.local/ns/default/sa/web through 2 certificates');
  expect(out).toContain('SPIFFE_ID_BAD_TRUST_DOMAIN_CHAR');
});
