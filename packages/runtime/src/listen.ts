// Binding a proxy's listeners (admin, metrics, readiness, SOCKS5, HBONE) with an error an operator can act
// on: which role, which address, and whether another process holds it or the address is not local.
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { formatHostPort } from '@ambient-ts/addresses';
import type { HostPort } from './env.ts';

const marker = Symbol.for('@ambient-ts/runtime/BindError');

/** A listener could not be bound; `code` is `BIND_FAILED`, `errno` the system's (e.g. `EADDRINUSE`). */
export class BindError extends Error {
  readonly code = 'BIND_FAILED';
  readonly role: string;
  readonly address: HostPort;
  readonly errno: string | undefined;
  readonly [marker] = true;

  constructor(role: string, address: HostPort, cause: NodeJS.ErrnoException) {
    const hint =
      cause.code === 'EADDRINUSE'
        ? ': another process is using it'
        : cause.code === 'EADDRNOTAVAIL'
          ? ': the address is not local to this host'
          : '';
    super(
      `${role} port ${formatHostPort(address.host, address.port)} cannot be bound (${cause.code ?? cause.message})${hint}`,
      {
        cause,
      },
    );
    this.name = 'BindError';
    this.role = role;
    this.address = address;
    this.errno = cause.code;
  }

  static isBindError(error: unknown): error is BindError {
    return typeof error === 'object' && error !== null && marker in error;
  }
}

/** Listen on `address` and resolve with the bound port (useful with port 0); rejects with a BindError. */
export async function listen(server: Server, address: HostPort, role: string): Promise<number> {
  server.listen({ host: address.host, port: address.port });
  const [error] = await Promise.race([once(server, 'listening').then(() => [undefined]), once(server, 'error')]);
  if (error) throw new BindError(role, address, error as NodeJS.ErrnoException);
  return (server.address() as AddressInfo).port;
}
