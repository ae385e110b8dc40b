// node:http on top of an HTTP/2 stream (an HBONE tunnel) instead of a socket. Two adjustments:
// - string chunks are written as Buffers. node:http writes its header block as a latin1 string (corked
//   with the first body Buffer, so one writev of string + Buffer); on an Http2Stream such writes come out
//   wrong in Node 24.21: with large bodies the next response's status line arrives corrupted ("Parse
//   Error: Expected HTTP/"), and a request whose body is empty can stall until protocol detection times
//   out. A bare HTTP/2 stream with small writes does not show it; test/direct/bodies.test.ts does, every
//   run, when this conversion is removed. This used to patch the private `_writev`; it now wraps the
//   public `write` of the one stream instance, which also covers single (non-batched) string writes.
// - the socket methods node:http calls that an Http2Stream lacks become no-ops.
import type { Socket } from 'node:net';
import { Duplex, Readable } from 'node:stream';

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

const adapted = new WeakSet<Duplex>();

export function asHttpConnection(stream: Duplex): Duplex {
  if (adapted.has(stream)) return stream;
  adapted.add(stream);
  const target = stream as Duplex & Partial<Pick<Socket, 'setKeepAlive' | 'setNoDelay' | 'ref' | 'unref'>>;
  const write = target.write as Write;
  (target as { write: Write }).write = function (this: Duplex, chunk, encoding, callback) {
    if (typeof chunk !== 'string') return write.call(this, chunk, encoding, callback);
    const bytes = Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
    return write.call(this, bytes, typeof encoding === 'function' ? encoding : callback);
  };
  target.setKeepAlive ??= () => target as Socket;
  target.setNoDelay ??= () => target as Socket;
  target.ref ??= () => target as Socket;
  target.unref ??= () => target as Socket;
  return target;
}

/**
 * The tunnel with `head` in front: the bytes read while sniffing when the client had already half-closed
 * (they can no longer be pushed back into the stream, and its 'end' has been seen).
 */
export function withHead(stream: Duplex, head: Buffer): Duplex {
  const joined = Duplex.from({
    readable: Readable.from(head.length > 0 ? [head] : []),
    writable: asHttpConnection(stream),
  }) as Duplex & { setTimeout?: () => Duplex };
  // node:http arms idle timers through setTimeout; the joined stream closes with the tunnel instead.
  joined.setTimeout ??= () => joined;
  return joined;
}
