// Double HBONE (facts §1.9): client → gateway (outer CONNECT) → inner TLS + HTTP/2 end to end with the
// remote ztunnel, which sees the hostname authority and x-forwarded-network.
import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectDoubleHbone, splice, type ConnectRequest } from '../src/index.ts';
import { eventually, newPool, readAll, startServer } from './fixtures.ts';
import { CLIENT_ID, connectOptions, pki } from './pki.ts';

const GATEWAY_ID = 'spiffe://cluster.local/ns/istio-system/sa/eastwest';
const REMOTE_SAN = 'spiffe://cluster.local/ns/remote/sa/echo';
const authority = 'echo.remote.svc.cluster.local:80';

async function topology() {
  const inner: ConnectRequest[] = [];
  const outer: ConnectRequest[] = [];
  const remote = await startServer({
    credentials: () => pki.creds(REMOTE_SAN),
    onConnect: (request) => {
      inner.push(request);
      const { stream } = request.accept({ baggage: 'k8s.namespace.name=remote' });
      stream.pipe(stream);
    },
  });
  const gateway = await startServer({
    credentials: () => pki.creds(GATEWAY_ID),
    onConnect: (request) => {
      outer.push(request);
      // A real gateway resolves the hostname; here every service lives on the remote server.
      const backend = netConnect({ host: '127.0.0.1', port: remote.port, allowHalfOpen: true });
      backend.once('connect', () => splice(request.accept().stream, backend));
      backend.once('error', () => request.state === 'pending' && request.refuse(503));
    },
  });
  return { inner, outer, remote, gateway };
}

describe('double HBONE', () => {
  it('tunnels end to end through a gateway with the inner identity checks and headers', async () => {
    const { inner, outer, gateway } = await topology();
    const pool = newPool();
    const tunnel = await connectDoubleHbone(pool, {
      outer: connectOptions(pki, gateway.port, { authority, expectedIdentities: [GATEWAY_ID] }),
      inner: { authority, credentials: pki.creds(CLIENT_ID), expectedIdentities: [REMOTE_SAN], network: 'network-a' },
    });
    expect(tunnel.peerIdentity).toBe(REMOTE_SAN);
    expect(tunnel.outer.peerIdentity).toBe(GATEWAY_ID);
    expect(tunnel.headers['baggage']).toBe('k8s.namespace.name=remote');
    tunnel.stream.end('across networks');
    expect((await readAll(tunnel.stream)).toString()).toBe('across networks');
    expect(outer[0]!.authority).toEqual({ kind: 'host', host: 'echo.remote.svc.cluster.local', port: 80 });
    expect(outer[0]!.headers['x-forwarded-network']).toBeUndefined();
    expect(inner[0]!.authority).toEqual({ kind: 'host', host: 'echo.remote.svc.cluster.local', port: 80 });
    expect(inner[0]!.headers['x-forwarded-network']).toBe('network-a');
    // The inner TLS is end to end: the remote sees the original client, not the gateway.
    expect(inner[0]!.peerIdentity).toBe(CLIENT_ID);
    // The inner connection was only for this tunnel: both hops wind down.
    await eventually(() => gateway.server.stats().tunnels === 0, 'outer tunnel to close');
  });

  it('verifies the inner hop only against the service SANs', async () => {
    const { inner, gateway } = await topology();
    const pool = newPool();
    await expect(
      connectDoubleHbone(pool, {
        outer: connectOptions(pki, gateway.port, { authority, expectedIdentities: [GATEWAY_ID] }),
        inner: { authority, credentials: pki.creds(CLIENT_ID), expectedIdentities: [GATEWAY_ID] },
      }),
    ).rejects.toMatchObject({ code: 'PEER_IDENTITY_MISMATCH' });
    expect(inner).toHaveLength(0);
    await eventually(() => gateway.server.stats().tunnels === 0, 'outer tunnel to close');
    await expect(
      connectDoubleHbone(pool, {
        outer: connectOptions(pki, gateway.port, { authority, expectedIdentities: [GATEWAY_ID] }),
        inner: { authority, credentials: pki.creds(CLIENT_ID), expectedIdentities: [] },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
