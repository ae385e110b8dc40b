// node:http on top of an HTTP/2 stream (an HBONE tunnel) instead of a socket. Two adjustments:
// - HTTP/1.1 writes a header string and a body Buffer as one writev; through an HBONE tunnel stream the
//   status line of such a batch arrived corrupted (Node 24.21, in this app; not reproduced with a bare
//   HTTP/2 stream), so string chunks are turned into Buffers first;
// - the socket methods node:http calls that an Http2Stream lacks become no-ops.
import type { Socket } from 'node:net';
import { Duplex, Readable } from 'node:stream';

type WritevChunk = { chunk: Buffer | string; encoding: BufferEncoding | 'buffer' };
type Writev = (chunks: WritevChunk[], callback: (error?: Error | null) => void) => void;

const patched = new WeakSet<Duplex>();

export function asHttpConnection(stream: Duplex): Duplex {
  if (patched.has(stream)) return stream;
  patched.add(stream);
  const target = stream as Duplex & { _writev?: Writev } & Partial<
      Pick<Socket, 'setKeepAlive' | 'setNoDelay' | 'ref' | 'unref'>
    >;
  const writev = target._writev;
  if (typeof writev === 'function') {
    target._writev = function (chunks, callback) {
      const buffers = chunks.map(({ chunk, encoding }) =>
        typeof chunk === 'string'
          ? { chunk: Buffer.from(chunk, encoding === 'buffer' ? 'utf8' : encoding), encoding: 'buffer' as const }
          : { chunk, encoding },
      );
      return writev.call(this, buffers, callback);
    };
  }
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
