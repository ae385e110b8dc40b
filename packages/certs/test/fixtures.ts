// Test helpers: a raw gRPC caller that can send any request bytes to a CA, and error readers. (CSRs
// crafted with node-forge, independent of the one under test, are @ambient-ts/pki/testing's forgeCsr.)
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';

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
