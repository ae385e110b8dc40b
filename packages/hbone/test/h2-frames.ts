// A tiny HTTP/2 frame writer and reader for tests that must misbehave on purpose (floods, resets,
// never answering PINGs). HPACK is "literal without indexing, no Huffman" only.
import type { TLSSocket } from 'node:tls';
import type { TlsCredentials } from '../src/index.ts';
import { mtlsSocket } from './pki.ts';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function hpackInt(value: number, prefixBits: number, firstByte = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const out = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** HPACK block of literal header fields without indexing. */
export function headerBlock(headers: [string, string][]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [
      Buffer.from([0x00]),
      hpackInt(Buffer.byteLength(name), 7),
      Buffer.from(name),
      hpackInt(Buffer.byteLength(value), 7),
      Buffer.from(value),
    ]),
  );
}

export function connectHeaders(streamId: number, authority = '127.0.0.1:80', extra: [string, string][] = []): Buffer {
  const block = headerBlock([[':method', 'CONNECT'], [':authority', authority], ...extra]);
  return frame(FrameType.HEADERS, Flag.END_HEADERS, streamId, block);
}

export function settings(entries: [number, number][] = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function ping(ack = false, data = Buffer.alloc(8)): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Collects frames read from a socket (after the server preface arrives). */
export class FrameReader {
  readonly frames: Frame[] = [];
  #buffer = Buffer.alloc(0);
  onFrame: ((frame: Frame) => void) | undefined;

  push(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    while (this.#buffer.length >= 9) {
      const length = this.#buffer.readUIntBE(0, 3);
      if (this.#buffer.length < 9 + length) return;
      const parsed: Frame = {
        type: this.#buffer.readUInt8(3),
        flags: this.#buffer.readUInt8(4),
        streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buffer.subarray(9, 9 + length),
      };
      this.#buffer = this.#buffer.subarray(9 + length);
      this.frames.push(parsed);
      this.onFrame?.(parsed);
    }
  }

  goaway(): { lastStreamId: number; code: number } | undefined {
    const found = this.frames.find((f) => f.type === FrameType.GOAWAY);
    return found && { lastStreamId: found.payload.readUInt32BE(0), code: found.payload.readUInt32BE(4) };
  }
}

/** An mTLS connection speaking raw frames: the client preface and an empty SETTINGS are already sent. */
export async function rawH2Client(
  port: number,
  creds: TlsCredentials,
  options: { ackSettings?: boolean } = {},
): Promise<{ socket: TLSSocket; reader: FrameReader; closed: Promise<void> }> {
  const socket = await mtlsSocket(port, creds);
  const reader = new FrameReader();
  if (options.ackSettings !== false) {
    reader.onFrame = (f) => {
      if (f.type === FrameType.SETTINGS && !(f.flags & Flag.ACK) && socket.writable) {
        socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
      }
    };
  }
  socket.on('data', (data: Buffer) => reader.push(data));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([PREFACE, settings()]));
  return { socket, reader, closed };
}
