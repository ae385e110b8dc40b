// HTTP/2 (h2c prior knowledge) to upstream endpoints, inside the same tunnels UpstreamConnector opens:
// one node:http2 client session per endpoint, shared by all requests to it (multiplexed streams). A
// session is ready once the endpoint's SETTINGS arrived; one that is closing, destroyed or got GOAWAY is
// forgotten, so the next request opens a new one. An endpoint that answers the preface with anything but
// HTTP/2 (an HTTP/1.1 server on a port declared grpc/http2) fails with `UpstreamProtocolError`.
import { connect, type ClientHttp2Session } from 'node:http2';
import type { UpstreamConnector } from './connector.ts';
import { targetAuthority, type UpstreamTarget } from './endpoints.ts';

/** The tunnel opened but the endpoint did not speak HTTP/2 on it. */
export class UpstreamProtocolError extends Error {
  override readonly name = 'UpstreamProtocolError';
}

function sessionKey(target: UpstreamTarget): string {
  return `${target.hbone ? 'hbone' : 'tcp'}|${targetAuthority(target)}|${target.identities.join(',')}`;
}

function usable(session: ClientHttp2Session): boolean {
  return !session.closed && !session.destroyed;
}

export class UpstreamH2Sessions {
  readonly #connector: UpstreamConnector;
  readonly #sessions = new Map<string, Promise<ClientHttp2Session>>();
  readonly #open = new Set<ClientHttp2Session>();

  constructor(connector: UpstreamConnector) {
    this.#connector = connector;
  }

  /** Live sessions (tests, config dump). */
  get size(): number {
    return this.#open.size;
  }

  /**
   * A ready session to `target`: the pooled one, or a new one over a new tunnel. Rejects with the
   * connector's error (tunnel failed: retriable) or `UpstreamProtocolError` (no HTTP/2 on the tunnel).
   */
  session(target: UpstreamTarget): Promise<ClientHttp2Session> {
    const key = sessionKey(target);
    const pooled = this.#sessions.get(key);
    if (pooled) return pooled;
    const opening = this.#connect(target).then(
      (session) => {
        const forget = (): void => {
          if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
        };
        if (!usable(session)) forget();
        session.once('goaway', forget);
        session.once('close', () => {
          forget();
          this.#open.delete(session);
        });
        return session;
      },
      (error: unknown) => {
        if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
        throw error;
      },
    );
    this.#sessions.set(key, opening);
    return opening;
  }

  async #connect(target: UpstreamTarget): Promise<ClientHttp2Session> {
    const stream = await this.#connector.open(target);
    const authority = targetAuthority(target);
    return new Promise((resolve, reject) => {
      const session = connect(`http://${authority}`, { createConnection: () => stream as never });
      this.#open.add(session);
      const fail = (why: string): void => {
        session.destroy();
        this.#open.delete(session);
        reject(
          new UpstreamProtocolError(
            `upstream ${authority} did not answer with HTTP/2 (h2c prior knowledge): ${why}; ` +
              'the Service port is declared HTTP/2 or gRPC but the endpoint speaks another protocol',
          ),
        );
      };
      const onError = (error: Error): void => fail(error.message);
      const onClose = (): void => fail('the connection closed before its SETTINGS');
      session.once('error', onError);
      session.once('close', onClose);
      session.once('remoteSettings', () => {
        session.off('error', onError);
        session.off('close', onClose);
        // Later session errors surface on the streams that use it.
        session.on('error', () => {});
        resolve(session);
      });
    });
  }

  /** Close every session (waypoint shutdown). */
  destroy(): void {
    for (const session of this.#open) session.destroy();
    this.#open.clear();
    this.#sessions.clear();
  }
}
