// Sending RST_STREAM alone. Node's `Http2Stream.close(code)` first ends the writable side, which puts an
// empty DATA frame with END_STREAM on the wire before the RST_STREAM — and the peer then reads a clean
// EOF before the error (observed on Node 24). A reset must not look like EOF, so we submit the
// RST_STREAM on the stream's native handle and only fall back to close() if that handle is not there.
import type { Http2Stream } from 'node:http2';

interface NativeStreamHandle {
  rstStream(code: number): void;
}

function nativeHandle(stream: Http2Stream): NativeStreamHandle | undefined {
  const key = Object.getOwnPropertySymbols(stream).find((symbol) => symbol.description === 'kHandle');
  const handle = key ? (stream as unknown as Record<symbol, unknown>)[key] : undefined;
  return handle && typeof (handle as NativeStreamHandle).rstStream === 'function'
    ? (handle as NativeStreamHandle)
    : undefined;
}

/** Reset `stream` with `code`, without a preceding END_STREAM. */
export function sendRstStream(stream: Http2Stream, code: number): void {
  if (stream.closed || stream.destroyed) return;
  const handle = stream.pending ? undefined : nativeHandle(stream);
  if (handle) handle.rstStream(code);
  else stream.close(code);
}
