// Double HBONE (facts §1.9): an outer CONNECT to an east-west gateway (pooled), and inside its bytes
// a second, unpooled TLS + HTTP/2 connection that CONNECTs to the remote service. The inner hop
// verifies only the target Service's SANs and carries `x-forwarded-network`.
import type { HboneTunnel } from './client-connection.ts';
import { dialHbone } from './dial.ts';
import { HboneError } from './errors.ts';
import { FORWARDED_NETWORK_HEADER } from './headers.ts';
import type { HbonePool, PoolConnectOptions } from './pool.ts';
import type { TlsCredentials } from './tls-config.ts';

export interface DoubleHboneOptions {
  /** The hop to the gateway: `authority` is `<service hostname>:<service port>`. */
  outer: PoolConnectOptions;
  inner: {
    /** Again `<service hostname>:<service port>`. */
    authority: string;
    headers?: Readonly<Record<string, string>>;
    credentials: TlsCredentials;
    /** The target Service's subject_alt_names (the remote workload identity is unknown). */
    expectedIdentities: readonly string[];
    /** Our network, sent as `x-forwarded-network`. */
    network?: string;
    connectTimeoutMs?: number;
    tls12?: boolean;
  };
}

export interface DoubleHboneTunnel extends HboneTunnel {
  /** The outer tunnel that carries the inner connection. */
  outer: HboneTunnel;
}

/** Open a tunnel through a gateway. The inner connection closes with the returned stream. */
export async function connectDoubleHbone(pool: HbonePool, options: DoubleHboneOptions): Promise<DoubleHboneTunnel> {
  const { inner } = options;
  if (!Array.isArray(inner?.expectedIdentities) || inner.expectedIdentities.length === 0) {
    throw new HboneError(
      'INVALID_OPTIONS',
      'connectDoubleHbone: inner.expectedIdentities must list the target Service SANs (services without SANs cannot be reached cross-network)',
    );
  }
  const outer = await pool.connect(options.outer);
  try {
    const connection = await dialHbone(
      {
        address: { host: options.outer.address.host, port: options.outer.address.port },
        transport: outer.stream,
        credentials: inner.credentials,
        expect: { kind: 'identities', identities: inner.expectedIdentities },
        ...(inner.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: inner.connectTimeoutMs }),
        tls12: inner.tls12 ?? false,
        ...(options.outer.signal === undefined ? {} : { signal: options.outer.signal }),
      },
      pool.credentialInfo(inner.credentials, inner.tls12 ?? false),
    );
    const headers = { ...inner.headers };
    if (inner.network !== undefined) headers[FORWARDED_NETWORK_HEADER] = inner.network;
    let tunnel: HboneTunnel;
    try {
      tunnel = await connection.openTunnel({
        authority: inner.authority,
        headers,
        ...(options.outer.signal === undefined ? {} : { signal: options.outer.signal }),
      });
    } catch (error) {
      connection.destroy();
      throw error;
    }
    // The inner connection exists for this one tunnel: GOAWAY it once the tunnel is done, and end the
    // outer stream when the inner connection is gone.
    tunnel.stream.once('close', () => connection.close());
    connection.once('close', () => {
      if (!outer.stream.writableEnded) outer.stream.end();
    });
    return { ...tunnel, outer };
  } catch (error) {
    outer.stream.destroy();
    throw error;
  }
}
