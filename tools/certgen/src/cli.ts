#!/usr/bin/env node
// certgen: write a root, an intermediate and SPIFFE leaves as PEM files, for manual interop checks
// (e.g. `hbone serve --cert ...`). Tests call the library directly instead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCa, createLeaf } from './index.ts';

const usage = `usage: certgen --out DIR [--id spiffe://td/ns/NS/sa/SA ...] [--days N]

Writes DIR/root.pem, DIR/intermediate.pem and, per --id, DIR/<sa>.pem (leaf + intermediate)
and DIR/<sa>-key.pem. Default id: spiffe://cluster.local/ns/default/sa/default.`;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    id: { type: 'string', multiple: true },
    days: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || values.out === undefined) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
const days = Number(values.days);
if (!Number.isFinite(days) || days <= 0) {
  console.error(`certgen: --days must be a positive number, got "${values.days}"`);
  process.exit(2);
}
const notAfter = new Date(Date.now() + days * 86_400_000);
const root = createCa({ commonName: 'ambient-ts certgen root', notAfter });
const intermediate = createCa({ commonName: 'ambient-ts certgen intermediate', issuer: root, notAfter });
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'root.pem'), root.certPem);
writeFileSync(join(values.out, 'intermediate.pem'), intermediate.certPem);
for (const id of values.id ?? ['spiffe://cluster.local/ns/default/sa/default']) {
  const leaf = createLeaf({ issuer: intermediate, uris: [id], notAfter });
  const base = id.split('/').pop() || 'leaf';
  writeFileSync(join(values.out, `${base}.pem`), leaf.certPem + intermediate.certPem);
  writeFileSync(join(values.out, `${base}-key.pem`), leaf.keyPem, { mode: 0o600 });
  console.log(`${id} -> ${join(values.out, `${base}.pem`)}`);
}
