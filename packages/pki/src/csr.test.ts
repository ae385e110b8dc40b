// CSRs: what we send (ztunnel's shape) and what we parse, checked against independent parsers
// (node-forge, openssl) and with arbitrary bytes. Which SANs a CA accepts is tested in @ambient-ts/ca.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createCsr } from './csr.ts';
import { parseCsr } from './csr-parse.ts';
import { generatePrivateKey } from './keys.ts';
import { forgeCsr, hasOpenssl, opensslText } from './testing.ts';

/** What a PkiError with `code` matches. */
const failure = (code: string): unknown => expect.objectContaining({ name: 'PkiError', code });

const id = 'spiffe://cluster.local/ns/default/sa/web';
const ecKey = await generatePrivateKey('ec-p256');
const p384Key = await generatePrivateKey('ec-p384');
const rsaKey = await generatePrivateKey('rsa-2048');

describe('createCsr', () => {
  it.each([
    ['ec-p256', ecKey],
    ['ec-p384', p384Key],
    ['rsa-2048', rsaKey],
  ] as const)('%s: one URI SAN, empty subject, verifiable signature', (_name, key) => {
    const parsed = parseCsr(createCsr(id, key));
    expect(parsed.sans).toEqual([`URI:${id}`]);
    expect(parsed.uris).toEqual([id]);
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

  it.skipIf(!hasOpenssl())('openssl verifies every kind and sees a critical URI SAN and an empty subject', () => {
    for (const [key, algorithm] of [
      [ecKey, /ecdsa-with-SHA256/],
      [p384Key, /ecdsa-with-SHA384/],
      [rsaKey, /sha256WithRSAEncryption/],
    ] as const) {
      const out = opensslText('req', createCsr(id, key), ['-verify']);
      expect(out).toMatch(/Subject:\s*\n/);
      expect(out).toMatch(/Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/web/);
      expect(out).toMatch(algorithm);
    }
  });

  it("takes any absolute URI (SPIFFE rules are the callers'), refuses non-URIs and unsupported keys", () => {
    expect(parseCsr(createCsr('https://example.com/x', ecKey)).uris).toEqual(['https://example.com/x']);
    expect(() => createCsr('not a uri', ecKey)).toThrow(failure('INVALID_INPUT'));
    expect(() => createCsr('', ecKey)).toThrow(failure('INVALID_INPUT'));
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => createCsr(id, ed)).toThrow(failure('KEY_UNSUPPORTED'));
  });
});

describe('parseCsr refuses bad requests with specific codes', () => {
  it('malformed text and DER', () => {
    expect(() => parseCsr('')).toThrow(failure('CSR_MALFORMED'));
    expect(() => parseCsr('hello')).toThrow(failure('CSR_MALFORMED'));
    expect(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----')).toThrow(
      failure('CSR_MALFORMED'),
    );
    const junk = Buffer.from('not a csr at all').toString('base64');
    expect(() => parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${junk}\n-----END CERTIFICATE REQUEST-----`)).toThrow(
      failure('CSR_MALFORMED'),
    );
    expect(() => parseCsr('x'.repeat(70_000))).toThrow(failure('CSR_MALFORMED'));
  });

  it('a CSR whose signature does not match its content', () => {
    const pem = createCsr(id, ecKey);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // Change one character of the SAN inside the signed part.
    const at = der.indexOf(Buffer.from('default'));
    der[at] = 'D'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(() => parseCsr(tampered)).toThrow(failure('CSR_BAD_SIGNATURE'));
  });

  it('reads every SAN of a CSR another implementation built', () => {
    expect(parseCsr(forgeCsr()).sans).toEqual([]);
    const mixed = forgeCsr({
      sans: [
        { type: 6, value: id },
        { type: 2, value: 'web.default.svc' },
        { type: 7, ip: '10.0.0.1' },
      ],
    });
    expect(parseCsr(mixed).sans).toEqual([`URI:${id}`, 'DNS:web.default.svc', 'IP:10.0.0.1']);
    expect(parseCsr(mixed).uris).toEqual([id]);
  });

  it('never throws anything but a PkiError on arbitrary bytes (fuzz)', () => {
    const valid = Buffer.from(createCsr(id, ecKey).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(valid.length - 1), fc.boolean(), (bytes, at, mutate) => {
        const der = mutate ? Buffer.from(valid) : Buffer.from(bytes);
        if (mutate) der[at] = der[at]! ^ (bytes[0] ?? 1);
        const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
        try {
          parseCsr(pem);
        } catch (error) {
          expect((error as { name: string }).name).toBe('PkiError');
        }
      }),
      { numRuns: 300 },
    );
  });
});
