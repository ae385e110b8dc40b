// Bind a grpc-js server to one of the two istiod-like ports, turning "address in use" into a message that
// names the port and what it was for.
import { formatHostPort } from '@ambient-ts/addresses';
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { ControlPlaneError } from '../errors.ts';

export interface PortRole {
  /** e.g. `xDS/CA TLS` */
  readonly role: string;
  /** The command-line flag that moves it. */
  readonly flag: string;
}

export async function bindPort(
  server: Server,
  host: string,
  port: number,
  credentials: ServerCredentials,
  { role, flag }: PortRole,
): Promise<number> {
  const target = formatHostPort(host, port);
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(target, credentials, (error, bound) => {
      if (!error) {
        resolve(bound);
        return;
      }
      if (/EADDRINUSE/.test(error.message)) {
        reject(
          new ControlPlaneError(
            'PORT_IN_USE',
            `${role} port ${port} is already in use by another process (on ${host}); stop it, or choose another port with ${flag}`,
            { cause: error },
          ),
        );
        return;
      }
      reject(
        new ControlPlaneError('BIND_FAILED', `cannot listen on ${target} for the ${role} port: ${error.message}`, {
          cause: error,
        }),
      );
    });
  });
}
