#!/usr/bin/env -S node --conditions=ambient-ts-source
// certgen: write a root, an intermediate and SPIFFE leaves as PEM files, for manual interop checks
// (e.g. `hbone serve --cert ...`). A thin CLI over @ambient-ts/pki/testing, which tests import directly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isKeyAlgorithm } from '@ambient-ts/pki';
import { createCa, createLeaf } from '@ambient-ts/pki/testing';

const usage = `usage: certgen --out DIR [--id spiffe://td/ns/NS/sa/SA ...] [--days N] [--key ec-p256|ec-p384|rsa-2048]

Writes DIR/root.pem, DIR/intermediate.pem and, per --id, DIR/<sa>.pem (leaf + intermediate)
and DIR/<sa>-key.pem. Default id: spiffe://cluster.local/ns/default/sa/default; default key ec-p256
(every certificate; a P-384 CA signs with SHA-384).`;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    id: { type: 'string', multiple: true },
    days: { type: 'string', default: '1' },
    key: { type: 'string', default: 'ec-p256' },
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
const keyAlgorithm = values.key;
if (!isKeyAlgorithm(keyAlgorithm)) {
  console.error(`certgen: --key must be ec-p256, ec-p384 or rsa-2048, got "${keyAlgorithm}"`);
  process.exit(2);
}
const notAfter = new Date(Date.now() + days * 86_400_000);
const root = createCa({ commonName: 'ambient-ts certgen root', notAfter, keyAlgorithm });
const intermediate = createCa({ commonName: 'ambient-ts certgen intermediate', issuer: root, notAfter, keyAlgorithm });
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'root.pem'), root.certPem);
writeFileSync(join(values.out, 'intermediate.pem'), intermediate.certPem);
for (const id of values.id ?? ['spiffe://cluster.local/ns/default/sa/default']) {
  const leaf = createLeaf({ issuer: intermediate, uris: [id], notAfter, keyAlgorithm });
  const base = id.split('/').pop() || 'leaf';
  writeFileSync(join(values.out, `${base}.pem`), leaf.certPem + intermediate.certPem);
  writeFileSync(join(values.out, `${base}-key.pem`), leaf.keyPem, { mode: 0o600 });
  console.log(`${id} -> ${join(values.out, `${base}.pem`)}`);
}
