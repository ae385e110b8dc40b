// SOCKS5 (RFC 1928) as ztunnel serves it on 15080: "no auth" only, CONNECT only, IPv4/IPv6/domain
// targets; the reply carries 0.0.0.0:0 as bound address. The client's own address identifies the source
// workload, which is what makes this useful for injecting traffic on one machine.
import { isIPv4, isIPv6, type Socket } from 'node:net';

export type SocksTarget = { kind: 'ip'; host: string; port: number } | { kind: 'domain'; host: string; port: number };

/** Reply codes (RFC 1928 §6). */
export const socksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export class SocksError extends Error {
  readonly code = 'SOCKS5_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'SocksError';
  }
}

/** Reads exactly n bytes from a paused socket, failing on end, error or timeout. */
function readBytes(socket: Socket, size: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tryRead = (): void => {
      const chunk = socket.read(size) as Buffer | null;
      if (chunk === null) return;
      cleanup();
      // At end of stream read() hands out what is left, even if shorter than asked.
      if (chunk.length < size) reject(new SocksError('client closed the connection during the SOCKS5 handshake'));
      else resolve(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new SocksError('client closed the connection during the SOCKS5 handshake'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const timer = setTimeout(
      () => {
        cleanup();
        reject(new SocksError('SOCKS5 handshake timed out'));
      },
      Math.max(0, deadline - Date.now()),
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('readable', tryRead);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    socket.on('readable', tryRead);
    socket.once('end', onEnd);
    socket.once('error', onError);
    tryRead();
  });
}

function reply(socket: Socket, code: number): void {
  if (socket.writable) socket.write(Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
}

/**
 * Run the SOCKS5 greeting and request. Resolves with the target; the caller connects and then calls
 * `answer(socket, socksReply.succeeded)` (or a failure code) before splicing bytes.
 */
export async function acceptSocks5(socket: Socket, timeoutMs = 10_000): Promise<SocksTarget> {
  const deadline = Date.now() + timeoutMs;
  socket.pause();
  const [version, methodCount] = await readBytes(socket, 2, deadline);
  if (version !== 0x05) throw new SocksError(`unsupported SOCKS version ${version}; only SOCKS5 is served`);
  const methods = await readBytes(socket, methodCount!, deadline);
  if (!methods.includes(0x00)) {
    socket.end(Buffer.from([0x05, 0xff]));
    throw new SocksError('client offered no "no authentication" method; only no-auth is supported');
  }
  socket.write(Buffer.from([0x05, 0x00]));
  const [requestVersion, command, , addressType] = await readBytes(socket, 4, deadline);
  if (requestVersion !== 0x05) throw new SocksError(`bad SOCKS5 request version ${requestVersion}`);
  if (command !== 0x01) {
    reply(socket, socksReply.commandNotSupported);
    throw new SocksError(`SOCKS5 command ${command} is not supported; only CONNECT (1) is`);
  }
  let target: SocksTarget;
  if (addressType === 0x01) {
    const raw = await readBytes(socket, 6, deadline);
    target = { kind: 'ip', host: [...raw.subarray(0, 4)].join('.'), port: raw.readUInt16BE(4) };
  } else if (addressType === 0x04) {
    const raw = await readBytes(socket, 18, deadline);
    const groups = Array.from({ length: 8 }, (_, index) => raw.readUInt16BE(index * 2).toString(16));
    target = { kind: 'ip', host: groups.join(':'), port: raw.readUInt16BE(16) };
  } else if (addressType === 0x03) {
    const [length] = await readBytes(socket, 1, deadline);
    const raw = await readBytes(socket, length! + 2, deadline);
    const host = raw.subarray(0, length).toString('latin1');
    target =
      isIPv4(host) || isIPv6(host)
        ? { kind: 'ip', host, port: raw.readUInt16BE(length!) }
        : { kind: 'domain', host, port: raw.readUInt16BE(length!) };
  } else {
    reply(socket, socksReply.addressTypeNotSupported);
    throw new SocksError(`SOCKS5 address type ${addressType} is not supported`);
  }
  return target;
}

/** Send the SOCKS5 reply and resume the socket for splicing (on success). */
export function answerSocks5(socket: Socket, code: number): void {
  reply(socket, code);
  if (code !== socksReply.succeeded) socket.end();
}
