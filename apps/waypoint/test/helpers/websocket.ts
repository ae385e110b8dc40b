// A minimal RFC 6455 WebSocket server for the direct tests, on node:http's 'upgrade' event: the opening
// handshake (Sec-WebSocket-Accept), masked client frames in (fragments joined), unmasked server frames
// out, ping → pong, and the closing handshake; and the matching client (WsClient). Node 24.21's global
// WebSocket cannot be used here: it fails every handshake on this machine, even against a bare local
// server ("Received network error or non-101 status code"), so the tests bring their own client.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC11B85';

export interface WsConnection {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  send(data: string | Buffer): void;
  /** Send a close frame; the socket ends once the client's close frame arrives. */
  close(code?: number, reason?: string): void;
  /** Resolves when the TCP-level stream is closed. */
  readonly closed: Promise<void>;
  /** The close code the client sent, once it did. */
  clientCloseCode?: number;
}

export interface WsServerOptions {
  /** Answer the upgrade request with this (status, body) instead of 101. */
  refuse?: (req: IncomingMessage) => { status: number; body: string } | undefined;
  onMessage: (connection: WsConnection, data: string | Buffer) => void;
  onConnection?: (connection: WsConnection) => void;
}

function frame(opcode: number, payload: Buffer, masked = false): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = length;
  else if (length < 65_536) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  header[1]! |= 0x80;
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

/** Parse frames (masked or not) from `buffered`; returns what is left. */
function parseFrames(buffered: Buffer, onFrame: (fin: boolean, opcode: number, payload: Buffer) => boolean): Buffer {
  for (;;) {
    if (buffered.length < 2) return buffered;
    const fin = (buffered[0]! & 0x80) !== 0;
    const opcode = buffered[0]! & 0x0f;
    const masked = (buffered[1]! & 0x80) !== 0;
    let length = buffered[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffered.length < 4) return buffered;
      length = buffered.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffered.length < 10) return buffered;
      length = Number(buffered.readBigUInt64BE(2));
      offset = 10;
    }
    const maskBytes = masked ? 4 : 0;
    if (buffered.length < offset + maskBytes + length) return buffered;
    const payload = Buffer.from(buffered.subarray(offset + maskBytes, offset + maskBytes + length));
    if (masked) {
      const mask = buffered.subarray(offset, offset + 4);
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    }
    buffered = buffered.subarray(offset + maskBytes + length);
    if (!onFrame(fin, opcode, payload)) return buffered;
  }
}

export const acceptFor = (key: string): string =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

/** The node:http 'upgrade' listener of a WebSocket server. */
export function webSocketServer(
  options: WsServerOptions,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const refused = options.refuse?.(req);
    if (refused) {
      socket.end(
        `HTTP/1.1 ${refused.status} Refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(refused.body)}\r\nconnection: close\r\n\r\n${refused.body}`,
      );
      return;
    }
    const accept = acceptFor(String(req.headers['sec-websocket-key'] ?? ''));
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-ws-backend: yes\r\n\r\n`,
    );
    let closeSent = false;
    const connection: WsConnection = {
      req,
      socket,
      send: (data) => socket.write(frame(typeof data === 'string' ? 1 : 2, Buffer.from(data))),
      close: (code = 1000, reason = '') => {
        if (closeSent) return;
        closeSent = true;
        const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
        payload.writeUInt16BE(code, 0);
        payload.write(reason, 2);
        socket.write(frame(8, payload));
      },
      closed: new Promise((resolve) => socket.once('close', () => resolve())),
    };
    socket.on('error', () => {});
    let buffered = head;
    let fragments: Buffer[] = [];
    let fragmentOpcode = 0;
    const parse = (): void => {
      buffered = parseFrames(buffered, (fin, opcode, payload) => {
        if (opcode === 8) {
          connection.clientCloseCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          connection.close(connection.clientCloseCode);
          socket.end();
          return false;
        }
        if (opcode === 9) socket.write(frame(10, payload));
        if (opcode >= 8) return true;
        if (opcode !== 0) fragmentOpcode = opcode;
        fragments.push(payload);
        if (!fin) return true;
        const message = Buffer.concat(fragments);
        fragments = [];
        options.onMessage(connection, fragmentOpcode === 1 ? message.toString() : message);
        return true;
      });
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      parse();
    });
    socket.on('end', () => socket.end());
    options.onConnection?.(connection);
    parse();
  };
}

/** The client side of an open WebSocket (masked frames out), on the socket of a 101. */
export class WsClient {
  readonly socket: Duplex;
  readonly #messages: (string | Buffer)[] = [];
  readonly #waiting: ((message: string | Buffer) => void)[] = [];
  /** The server's close frame: code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the TCP-level stream is closed. */
  readonly socketClosed: Promise<void>;

  constructor(socket: Duplex, head: Buffer) {
    this.socket = socket;
    let onClose!: (value: { code: number; reason: string }) => void;
    this.closed = new Promise((resolve) => (onClose = resolve));
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.once('close', () => onClose({ code: 1006, reason: '' }));
    let buffered = head;
    let fragments: Buffer[] = [];
    let fragmentOpcode = 0;
    let closeSent = false;
    const parse = (): void => {
      buffered = parseFrames(buffered, (fin, opcode, payload) => {
        if (opcode === 8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          onClose({ code, reason: payload.subarray(2).toString() });
          if (!closeSent) socket.write(frame(8, payload.subarray(0, 2), true));
          closeSent = true;
          return false;
        }
        if (opcode >= 8) return true;
        if (opcode !== 0) fragmentOpcode = opcode;
        fragments.push(payload);
        if (!fin) return true;
        const message = Buffer.concat(fragments);
        fragments = [];
        const value = fragmentOpcode === 1 ? message.toString() : message;
        const waiter = this.#waiting.shift();
        if (waiter) waiter(value);
        else this.#messages.push(value);
        return true;
      });
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      parse();
    });
    socket.on('end', () => socket.end());
    this.close = (code = 1000, reason = '') => {
      closeSent = true;
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      socket.write(frame(8, payload, true));
    };
    parse();
  }

  readonly close: (code?: number, reason?: string) => void;

  send(data: string | Buffer): void {
    this.socket.write(frame(typeof data === 'string' ? 1 : 2, Buffer.from(data), true));
  }

  next(): Promise<string | Buffer> {
    const queued = this.#messages.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
