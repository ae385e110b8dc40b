// CSRs: what we send (ztunnel's shape) and what the CA accepts, checked against independent parsers
// (node-forge, openssl) and with arbitrary identities and bytes.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { codeOf, forgeCsr, hasOpenssl } from '../test/fixtures.ts';
import { createCsr } from './csr.ts';
import { csrIdentity, parseCsr } from './csr-parse.ts';
import { generatePrivateKey } from './keys.ts';

const id = 'spiffe://cluster.local/ns/default/sa/web';
const ecKey = await generatePrivateKey('ec-p256');
const rsaKey = await generatePrivateKey('rsa-2048');

describe('createCsr', () => {
  it.each([
    ['ec-p256', ecKey],
    ['rsa-2048', rsaKey],
  ] as const)('%s: one URI SAN, empty subject, verifiable signature', (_name, key) => {
    const pem = createCsr(id, key);
    const parsed = parseCsr(pem);
    expect(parsed.sans).toEqual([`URI:${id}`]);
    expect(csrIdentity(parsed)).toBe(id);
  });

  it('RSA CSRs (built by node-forge, signed natively) verify in node-forge', () => {
    const csr = forge.pki.certificationRequestFromPem(createCsr(id, rsaKey));
    expect(csr.verify()).toBe(true);
    expect(csr.subject.attributes).toEqual([]);
    const ext = (
      csr.getAttribute({ name: 'extensionRequest' }) as {
        extensions: { name: string; critical: boolean; altNames: { type: number; value: string }[] }[];
      }
    ).extensions;
    expect(ext).toHaveLength(1);
    expect(ext[0]).toMatchObject({ name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: id }] });
  });

  it.skipIf(!hasOpenssl())('openssl verifies both kinds and sees a critical URI SAN and an empty subject', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certs-csr-'));
    try {
      for (const key of [ecKey, rsaKey]) {
        const file = join(dir, 'req.pem');
        writeFileSync(file, createCsr(id, key));
        const out = execFileSync('openssl', ['req', '-in', file, '-noout', '-verify', '-text'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }).toString();
        expect(out).toMatch(/Subject:\s*\n/);
        expect(out).toMatch(/Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/web/);
        expect(out).toMatch(key === ecKey ? /ecdsa-with-SHA256/ : /sha256WithRSAEncryption/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses identities that are not workload SPIFFE IDs, and unsupported keys', () => {
    expect(codeOf(() => createCsr('spiffe://cluster.local', ecKey))).toBe('IDENTITY_INVALID');
    expect(codeOf(() => createCsr('https://cluster.local/ns/a/sa/b', ecKey))).toBe('IDENTITY_INVALID');
    expect(codeOf(() => createCsr('spiffe://Cluster.local/ns/a/sa/b', ecKey))).toBe('IDENTITY_INVALID');
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(codeOf(() => createCsr(id, ed))).toBe('KEY_UNSUPPORTED');
  });

  it('round-trips any valid Istio identity (property)', () => {
    const part = fc
      .string({ unit: fc.constantFrom(...'abcxyzABC019.-_'.split('')), minLength: 1, maxLength: 20 })
      .filter((s) => s !== '.' && s !== '..');
    const td = fc.string({ unit: fc.constantFrom(...'abcz09.-'.split('')), minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(td, part, part, (trustDomain, ns, sa) => {
        const identity = `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
        expect(csrIdentity(parseCsr(createCsr(identity, ecKey)))).toBe(identity);
      }),
      { numRuns: 60 },
    );
  });
});

describe('parseCsr and csrIdentity refuse bad requests with specific codes', () => {
  it('malformed text and DER', () => {
    expect(codeOf(() => parseCsr(''))).toBe('CSR_MALFORMED');
    expect(codeOf(() => parseCsr('hello'))).toBe('CSR_MALFORMED');
    expect(codeOf(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----'))).toBe(
      'CSR_MALFORMED',
    );
    const junk = Buffer.from('not a csr at all').toString('base64');
    expect(
      codeOf(() => parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${junk}\n-----END CERTIFICATE REQUEST-----`)),
    ).toBe('CSR_MALFORMED');
    expect(codeOf(() => parseCsr('x'.repeat(70_000)))).toBe('CSR_MALFORMED');
  });

  it('a CSR whose signature does not match its content', () => {
    const pem = createCsr(id, ecKey);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // Change one character of the SAN inside the signed part.
    const at = der.indexOf(Buffer.from('default'));
    der[at] = 'D'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(codeOf(() => parseCsr(tampered))).toBe('CSR_BAD_SIGNATURE');
  });

  it('zero SANs, several SANs, a non-SPIFFE SAN', () => {
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr())))).toBe('CSR_NO_SAN');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ commonName: 'web' }))))).toBe('CSR_NO_SAN');
    const two = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 6, value: 'spiffe://cluster.local/ns/x/sa/y' },
      ],
    });
    expect(codeOf(() => csrIdentity(parseCsr(two)))).toBe('CSR_MULTIPLE_SANS');
    const withDns = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 2, value: 'web.default.svc' },
      ],
    });
    expect(codeOf(() => csrIdentity(parseCsr(withDns)))).toBe('CSR_MULTIPLE_SANS');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 2, value: 'web' }] }))))).toBe('CSR_NOT_SPIFFE');
    expect(codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'https://web' }] }))))).toBe(
      'CSR_NOT_SPIFFE',
    );
    expect(
      codeOf(() => csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local' }] })))),
    ).toBe('CSR_NOT_SPIFFE');
    const notIstio = forgeCsr({ sans: [{ type: 6, value: 'spiffe://cluster.local/workload/web' }] });
    expect(codeOf(() => csrIdentity(parseCsr(notIstio)))).toBe('CSR_NOT_SPIFFE');
    // A forge-made single-SAN CSR is fine: the CA does not depend on our own CSR builder.
    expect(csrIdentity(parseCsr(forgeCsr({ sans: [{ type: 6, value: id }] })))).toBe(id);
  });

  it('never throws anything but a CertsError on arbitrary bytes (fuzz)', () => {
    const valid = Buffer.from(createCsr(id, ecKey).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(valid.length - 1), fc.boolean(), (bytes, at, mutate) => {
        const der = mutate ? Buffer.from(valid) : Buffer.from(bytes);
        if (mutate) der[at] = der[at]! ^ (bytes[0] ?? 1);
        const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
        try {
          csrIdentity(parseCsr(pem));
        } catch (error) {
          expect((error as { name: string }).name).toBe('CertsError');
        }
      }),
      { numRuns: 300 },
    );
  });
});
