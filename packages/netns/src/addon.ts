// Loads the native addon built at install (build/Release/netns.node). Importing never throws: when the
// addon is missing, netnsSupport() says why and every function throws NetnsError UNAVAILABLE.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NetnsError } from './errors.ts';

export interface AddressInfo {
  address: string;
  port: number;
  family: 4 | 6;
}

export interface NativeAddon {
  namespaceId(fd: number): { dev: number; ino: number };
  socket(family: 4 | 6, kind: 'tcp' | 'udp', netns: number): number;
  setOption(fd: number, name: SocketOptionName, value: number): void;
  getOption(fd: number, name: SocketOptionName): number;
  bind(fd: number, address: string, port: number): void;
  listen(fd: number, backlog: number): void;
  localAddress(fd: number): AddressInfo;
  originalDestination(fd: number): AddressInfo & { via: 'SO_ORIGINAL_DST' | 'IP6T_SO_ORIGINAL_DST' | 'local' };
  close(fd: number): void;
  seqpacketPair(): [number, number];
  seqpacketConnect(path: string): number;
  seqpacketListen(path: string, backlog: number): number;
  seqpacketAccept(fd: number): number | null;
  sendWithFds(fd: number, data: Uint8Array, fds: readonly number[]): number;
  recvWithFds(
    fd: number,
    maxBytes: number,
  ): { data: Buffer; fds: number[]; truncated: boolean; controlTruncated: boolean } | null;
  watchReadable(fd: number, callback: (status: number) => void): object;
  unwatch(handle: object): void;
}

export type SocketOptionName = 'mark' | 'reuseport' | 'reuseaddr' | 'transparent' | 'freebind' | 'v6only';

export type NetnsSupport = { available: true } | { available: false; reason: string };

const addonPath = new URL('../build/Release/netns.node', import.meta.url);
const markerPath = new URL('../build/unavailable.txt', import.meta.url);

function load(): { addon: NativeAddon } | { reason: string } {
  if (process.platform !== 'linux')
    return { reason: `network namespaces are Linux-only (this is ${process.platform})` };
  if (!existsSync(addonPath)) {
    const why = existsSync(markerPath) ? readFileSync(markerPath, 'utf8').trim() : 'the install step did not run';
    return { reason: `native addon not built: ${why}; rebuild with \`npm rebuild @ambient-ts/netns\`` };
  }
  try {
    return { addon: createRequire(import.meta.url)(addonPath.pathname) as NativeAddon };
  } catch (error) {
    return { reason: `native addon failed to load: ${(error as Error).message}` };
  }
}

const loaded = load();

/** Whether this machine can use the package, and if not why. */
export function netnsSupport(): NetnsSupport {
  return 'addon' in loaded ? { available: true } : { available: false, reason: loaded.reason };
}

/** The addon, or NetnsError UNAVAILABLE with the reason. */
export function addon(): NativeAddon {
  if ('addon' in loaded) return loaded.addon;
  throw new NetnsError('UNAVAILABLE', `@ambient-ts/netns is unavailable: ${loaded.reason}`);
}
