import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyPrefix, declaredProtocol, H2_PREFACE, sniff } from './sniff.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('classifyPrefix', () => {
  it('recognises HTTP/1.x request lines and the h2 preface', () => {
    expect(classifyPrefix(bytes('GET / HTTP/1.1\r\nhost: x\r\n'))).toBe('http1');
    expect(classifyPrefix(bytes('DELETE /a?b=c HTTP/1.0\n'))).toBe('http1');
    expect(classifyPrefix(bytes(H2_PREFACE))).toBe('h2');
    expect(classifyPrefix(bytes(`${H2_PREFACE}\0\0\x12\x04`))).toBe('h2');
  });

  it('asks for more while the bytes are still a possible start', () => {
    expect(classifyPrefix(bytes(''))).toBe('more');
    expect(classifyPrefix(bytes('GE'))).toBe('more');
    expect(classifyPrefix(bytes('GET /long/path'))).toBe('more');
    expect(classifyPrefix(bytes('PRI * HTTP/2'))).toBe('more');
  });

  it('calls everything else TCP', () => {
    expect(classifyPrefix(bytes('hello'))).toBe('tcp');
    expect(classifyPrefix(bytes('\x16\x03\x01\x02\x00'))).toBe('tcp'); // TLS ClientHello
    expect(classifyPrefix(bytes('GET / SMTP\r\n'))).toBe('tcp');
    expect(classifyPrefix(bytes('GET /\x01'))).toBe('tcp');
    expect(classifyPrefix(bytes('PRI-X'))).toBe('tcp');
    expect(classifyPrefix(bytes('PRX'))).toBe('more'); // could still be a method
  });

  it('every prefix of a valid request line is "more" or "http1", never TCP (property)', () => {
    const line = fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS', 'PATCH'),
        fc.stringMatching(/^\/[A-Za-z0-9/._~%-]{0,40}$/),
        fc.constantFrom('1.0', '1.1'),
      )
      .map(([method, path, version]) => `${method} ${path} HTTP/${version}\r\n`);
    fc.assert(
      fc.property(line, fc.nat(), (text, cut) => {
        const verdict = classifyPrefix(bytes(text.slice(0, cut % (text.length + 1))));
        return verdict === 'more' || verdict === 'http1';
      }),
    );
    fc.assert(fc.property(line, (text) => classifyPrefix(bytes(text)) === 'http1'));
  });

  it('never throws and always decides on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (array) =>
        ['more', 'http1', 'h2', 'tcp'].includes(classifyPrefix(Buffer.from(array))),
      ),
    );
  });
});

describe('declaredProtocol', () => {
  it('maps istiod app_protocol values', () => {
    expect(declaredProtocol('HTTP11')).toBe('http');
    expect(declaredProtocol('GRPC')).toBe('http');
    expect(declaredProtocol('TCP')).toBe('tcp');
    expect(declaredProtocol('TLS')).toBe('tcp');
    expect(declaredProtocol('UNKNOWN')).toBe('sniff');
  });
});

describe('sniff', () => {
  it('puts the bytes back for the chosen server', async () => {
    const stream = new PassThrough();
    stream.write('GET / HT');
    setTimeout(() => stream.write('TP/1.1\r\n'), 5);
    expect(await sniff(stream, 5000, 'sniff')).toEqual({ detected: 'http1', head: Buffer.alloc(0) });
    expect(stream.read()?.toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('hands back bytes it cannot put back after the client half-closed', async () => {
    const stream = new PassThrough();
    stream.end('PING');
    const result = await sniff(stream, 5000, 'sniff');
    expect(result.detected).toBe('tcp');
    expect(result.head.toString()).toBe('PING');
  });

  it('falls back to TCP on silence, and to HTTP/1.1 on a declared HTTP port', async () => {
    expect((await sniff(new PassThrough(), 20, 'sniff')).detected).toBe('tcp');
    expect((await sniff(new PassThrough(), 20, 'http')).detected).toBe('http1');
  });
});
