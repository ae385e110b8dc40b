// Test helpers: CSRs crafted with node-forge (an implementation independent of the one under test) and
// a raw gRPC caller that can send any request bytes to a CA.
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import forge from 'node-forge';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const forgeKey = forge.pki.privateKeyFromPem(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
const forgePublic = forge.pki.publicKeyFromPem(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);

export type ForgeSan = { type: 6; value: string } | { type: 2; value: string } | { type: 7; ip: string };

/** An RSA CSR with exactly the SANs (and subject) asked for, built and signed by node-forge. */
export function forgeCsr(options: { sans?: ForgeSan[]; commonName?: string } = {}): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forgePublic;
  csr.setSubject(options.commonName ? [{ name: 'commonName', value: options.commonName }] : []);
  if (options.sans?.length) {
    csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: options.sans }] }]);
  }
  csr.sign(forgeKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Send raw request bytes to CreateCertificate; resolves with the response bytes or the gRPC error. */
export function rawCall(
  target: string,
  rootPem: string | undefined,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ ok: true; bytes: Buffer } | { ok: false; error: ServiceError }> {
  const client = new Client(
    target,
    rootPem ? credentials.createSsl(Buffer.from(rootPem)) : credentials.createInsecure(),
  );
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/istio.v1.auth.IstioCertificateService/CreateCertificate',
      (value: Buffer) => value,
      (value: Buffer) => value,
      body,
      metadata,
      { deadline: Date.now() + 15_000 },
      (error, bytes) => {
        client.close();
        resolve(error ? { ok: false, error } : { ok: true, bytes: bytes! });
      },
    );
  });
}

export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; reason?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; reason?: string; message: string };
  }
  throw new Error('expected a rejection');
}
