// The README example must run as written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example runs and prints what it promises', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'), {
    // The layout `npx certgen --out certs --id .../sa/echo --id .../sa/sleep` writes.
    prepare: (dir) => {
      mkdirSync(join(dir, 'certs'));
      const root = createCa({ commonName: 'readme root' });
      const intermediate = createCa({ commonName: 'readme intermediate', issuer: root });
      writeFileSync(join(dir, 'certs/root.pem'), root.certPem);
      for (const name of ['echo', 'sleep']) {
        const uris = [`spiffe://cluster.local/ns/default/sa/${name}`];
        const leaf = createLeaf({ issuer: intermediate, uris });
        writeFileSync(join(dir, `certs/${name}.pem`), leaf.certPem + intermediate.certPem);
        writeFileSync(join(dir, `certs/${name}-key.pem`), leaf.keyPem);
      }
    },
  });
  expect(out).toContain('CONNECT 10.0.0.7:8080 from spiffe://cluster.local/ns/default/sa/sleep');
  expect(out).toContain('echoed: hello');
  expect(out).toContain('TUNNEL_REFUSED 503');
});
