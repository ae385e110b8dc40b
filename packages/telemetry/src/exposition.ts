// Metrics over HTTP, compressed the way the client asks (gzip, br, zstd or none), like ztunnel's 15020.
import { brotliCompressSync, gzipSync, zstdCompressSync } from 'node:zlib';

export interface EncodedBody {
  body: Buffer;
  headers: Record<string, string>;
}

const encoders: Record<string, (data: Buffer) => Buffer> = {
  zstd: (data) => zstdCompressSync(data),
  br: (data) => brotliCompressSync(data),
  gzip: (data) => gzipSync(data),
};

/** Pick the first supported encoding the Accept-Encoding header allows (q=0 excluded). */
export function chooseEncoding(acceptEncoding: string | undefined): string | undefined {
  if (!acceptEncoding) return undefined;
  const offered = acceptEncoding
    .split(',')
    .map((part) => part.trim().split(';'))
    .filter(([, ...params]) => !params.some((param) => /^\s*q=0(\.0*)?\s*$/.test(param)))
    .map(([name]) => name!.trim().toLowerCase());
  return ['zstd', 'br', 'gzip'].find((name) => offered.includes(name));
}

export function encodeBody(text: string, contentType: string, acceptEncoding: string | undefined): EncodedBody {
  const raw = Buffer.from(text);
  const encoding = chooseEncoding(acceptEncoding);
  if (!encoding) return { body: raw, headers: { 'content-type': contentType } };
  return {
    body: encoders[encoding]!(raw),
    headers: { 'content-type': contentType, 'content-encoding': encoding, vary: 'accept-encoding' },
  };
}
