// Protocol detection for a tunnel (l7-facts §1.6): the Service port's declared protocol decides when
// there is one (HTTP-class → HTTP, TCP-class → TCP); otherwise the first client bytes are sniffed like
// Envoy's HTTP inspector: an HTTP/1.x request line or the HTTP/2 prior-knowledge preface means HTTP,
// anything else (or silence until the detection timeout, or EOF) means opaque TCP.
import type { Duplex } from 'node:stream';
import type { AppProtocol } from '../state/app-protocols.ts';

export type Detected = 'http1' | 'h2' | 'tcp';
export type Declared = 'http' | 'tcp' | 'sniff';

export const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const MAX_REQUEST_LINE = 8192;
const methodChar = /^[A-Z]$/;

/** What the Service port declares (istiod's app_protocol from appProtocol or the port name). */
export function declaredProtocol(appProtocol: AppProtocol): Declared {
  switch (appProtocol) {
    case 'HTTP11':
    case 'HTTP2':
    case 'GRPC':
      return 'http';
    case 'TCP':
    case 'TLS':
      return 'tcp';
    default:
      return 'sniff';
  }
}

/** Classify the first bytes of a stream, or 'more' when they are not conclusive yet. */
export function classifyPrefix(bytes: Buffer): Detected | 'more' {
  if (bytes.length === 0) return 'more';
  const preface = Buffer.from(H2_PREFACE, 'latin1');
  const n = Math.min(bytes.length, preface.length);
  if (bytes.subarray(0, n).equals(preface.subarray(0, n))) return n === preface.length ? 'h2' : 'more';
  // HTTP/1.x request line: METHOD SP request-target SP HTTP/1.x CRLF (methods are upper-case tokens).
  let i = 0;
  while (i < bytes.length && i < 32 && methodChar.test(String.fromCharCode(bytes[i]!))) i++;
  if (i === bytes.length) return bytes.length < 32 ? 'more' : 'tcp';
  if (i === 0 || bytes[i] !== 0x20) return 'tcp';
  const newline = bytes.indexOf(0x0a);
  if (newline === -1) {
    if (bytes.length >= MAX_REQUEST_LINE) return 'tcp';
    // Control characters before the end of the line rule HTTP out early.
    for (let j = i; j < bytes.length; j++) if (bytes[j]! < 0x20 && bytes[j] !== 0x0d) return 'tcp';
    return 'more';
  }
  const line = bytes.subarray(0, newline).toString('latin1').replace(/\r$/, '');
  return /^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line) ? 'http1' : 'tcp';
}

export interface Sniffed {
  readonly detected: Detected;
  /** Bytes read that could not be put back because the client already half-closed (send them first). */
  readonly head: Buffer;
}

/**
 * Read from `stream` until the bytes are conclusive, EOF, or `timeoutMs`; then put the bytes back
 * (`unshift`) so the chosen server reads them first. A declared HTTP port falls back to HTTP/1.1.
 */
export function sniff(stream: Duplex, timeoutMs: number, hint: 'http' | 'sniff'): Promise<Sniffed> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let finished = false;
    let ended = false;
    const finish = (detected: Detected): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      if (buffered.length > 0 && !ended && !stream.readableEnded) {
        stream.unshift(buffered);
        resolve({ detected, head: Buffer.alloc(0) });
      } else resolve({ detected, head: buffered });
    };
    const decide = (final: boolean): void => {
      const verdict = classifyPrefix(buffered);
      if (verdict === 'more') {
        if (final) finish(hint === 'http' ? 'http1' : 'tcp');
        return;
      }
      finish(verdict === 'tcp' && hint === 'http' ? 'http1' : verdict);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!finished && (chunk = stream.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        decide(false);
      }
    };
    const onEnd = (): void => {
      ended = true;
      decide(true);
    };
    const timer = setTimeout(() => decide(true), timeoutMs);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
  });
}
