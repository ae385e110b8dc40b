// Channel setup for the xDS client: target parsing, TLS roots, per-connect metadata.
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { XdsError, errorMessage } from './errors.ts';
import type { TokenSource, XdsClientOptions } from './client-types.ts';

export interface ParsedAddress {
  readonly secure: boolean;
  /** host:port for grpc-js */
  readonly target: string;
}

/** `https://h:p`, `http://h:p` or `h:p` (https, like ztunnel for a missing scheme). */
export function parseXdsAddress(address: string): ParsedAddress {
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `https://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw new XdsError(
      'OPTIONS_INVALID',
      `xDS address ${JSON.stringify(address)} is not a URL; use https://host:port or http://host:port`,
      { cause: error },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new XdsError(
      'OPTIONS_INVALID',
      `xDS address scheme ${url.protocol} not supported; use https:// or http://`,
    );
  }
  const secure = url.protocol === 'https:';
  const port = url.port || (secure ? '443' : '80');
  return { secure, target: `${url.hostname}:${port}` };
}

async function rootCertBytes(rootCert: string | undefined): Promise<Buffer | null> {
  if (rootCert === undefined || rootCert === 'SYSTEM') return null;
  if (rootCert.includes('-----BEGIN')) return Buffer.from(rootCert);
  try {
    return await readFile(rootCert);
  } catch (error) {
    throw new XdsError(
      'OPTIONS_INVALID',
      `cannot read xDS root certificate ${rootCert}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

export async function channelCredentials(options: XdsClientOptions, secure: boolean): Promise<grpc.ChannelCredentials> {
  if (!secure) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(await rootCertBytes(options.rootCert));
}

async function readToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return typeof source === 'string' ? source : await source();
}

/** `authorization: Bearer <token>`, `clusterid`, and extra headers, fresh for each stream. */
export async function streamMetadata(options: XdsClientOptions): Promise<grpc.Metadata> {
  const metadata = new grpc.Metadata();
  const token = await readToken(options.token);
  if (token) metadata.set('authorization', `Bearer ${token.trim()}`);
  if (options.clusterId) metadata.set('clusterid', options.clusterId);
  for (const [name, value] of Object.entries(options.headers ?? {})) metadata.set(name.toLowerCase(), value);
  return metadata;
}

export function channelOptions(options: XdsClientOptions): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': 200 * 1024 * 1024,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    ...(options.serverName
      ? { 'grpc.ssl_target_name_override': options.serverName, 'grpc.default_authority': options.serverName }
      : {}),
    ...options.channelOptions,
  };
}
