// A fresh self-signed root (certificate + key as PEM) for the mesh CA, so the control plane can persist it
// and sign with it again after a restart (CertificateAuthority.load).
//
// Stopgap: @ambient-ts/certs creates roots (CertificateAuthority.create) but keeps the key inside the
// object, so its root cannot be saved. Until certs can export it, this builds the one certificate shape
// needed here with node:crypto and a minimal DER writer; CertificateAuthority.load then checks the result
// (CA flag, key match, self-signature) like any plugged-in root.
import { createHash, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export interface RootMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface RootOptions {
  /** Subject organization, as Istio's self-signed root (`O=cluster.local`). */
  readonly trustDomain: string;
  /** Default 10 years. */
  readonly ttlSeconds?: number;
  /** Default Date.now(). */
  readonly now?: number;
}

// --- DER ---------------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const explicit = (n: number, item: Buffer): Buffer => tlv(0xa0 + n, item);
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bits = (content: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), content);
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

function integer(content: Buffer): Buffer {
  let start = 0;
  while (start < content.length - 1 && content[start] === 0 && (content[start + 1]! & 0x80) === 0) start++;
  const trimmed = content.subarray(start);
  return tlv(0x02, (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const out = [first! * 40 + second!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
};

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  sequence(oid(id), ...(critical ? [bool(true)] : []), octets(value));

// --- the root ----------------------------------------------------------------------------------------

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function rootCertificateDer(key: KeyObject, publicKey: KeyObject, options: RootOptions): Buffer {
  const now = options.now ?? Date.now();
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // SKI: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1); the EC point follows the
  // 0x00 unused-bits byte at the end of the SPKI.
  const point = spki.subarray(spki.length - 65);
  const name = sequence(set(sequence(oid(OID.organization), utf8(options.trustDomain))));
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x40 | (randomBytes(1)[0]! & 0x3f)]), randomBytes(15)])),
    algorithm,
    name,
    sequence(time(new Date(now - 60_000)), time(new Date(now + (options.ttlSeconds ?? 10 * 365 * 86_400) * 1000))),
    name,
    spki,
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence(bool(true))),
        // digitalSignature (bit 0), keyCertSign (5), cRLSign (6): 1000 0110, one unused bit
        extension(OID.keyUsage, true, bits(Buffer.from([0x86]), 1)),
        extension(OID.subjectKeyIdentifier, false, octets(createHash('sha1').update(point).digest())),
      ),
    ),
  );
  return sequence(tbs, algorithm, bits(sign('sha256', tbs, key)));
}

/** A new ECDSA P-256 self-signed CA certificate and its PKCS#8 key. */
export async function createRootMaterial(options: RootOptions): Promise<RootMaterial> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });
  return {
    certPem: pem('CERTIFICATE', rootCertificateDer(privateKey, publicKey, options)),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
