// The two istiod-like ports: one grpc-js server each, both carrying the delta ADS service and the Istio CA
// service (istiod serves both on 15010 plaintext and 15012 TLS). Both require a node or waypoint token.
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  addCaService,
  type CaServiceOptions,
  type Caller,
  type CertificateAuthority,
  type TokenVerifier,
} from '@ambient-ts/ca';
import { addDeltaAdsService, type DeltaXdsServer } from '@ambient-ts/xds';
import { bindPort } from './listen.ts';

/** Names the TLS port's certificate carries, as istiod's does, plus loopback for the local mesh. */
export const SERVER_DNS_NAMES = ['istiod.istio-system.svc', 'istiod', 'localhost'];
export const SERVER_IPS = ['127.0.0.1', '::1'];

export interface ServingOptions {
  readonly host: string;
  readonly ports: { readonly plaintext: number; readonly tls: number };
  readonly authority: CertificateAuthority;
  readonly xds: DeltaXdsServer<Caller>;
  readonly ca: CaServiceOptions;
}

export interface Serving {
  readonly ports: { readonly plaintext: number; readonly tls: number };
  readonly serverNames: { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };
  close(): Promise<void>;
}

/** `authorization: Bearer <token>` + `clusterid`, as the CA reads them, for the xDS authenticate hook. */
export function xdsAuthenticator(verifier: TokenVerifier): (metadata: grpc.Metadata) => Promise<Caller> {
  return async (metadata) => {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (token === undefined)
      throw new Error('no "authorization: Bearer <token>" header; proxies send the token from <state-dir>/tokens/');
    const cluster = metadata.get('clusterid')[0];
    return verifier.verify(token, {
      clusterId: typeof cluster === 'string' && cluster !== '' ? cluster : 'Kubernetes',
    });
  };
}

function serverNames(host: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [...SERVER_DNS_NAMES];
  const ipAddresses = [...SERVER_IPS];
  const wildcard = host === '0.0.0.0' || host === '::';
  if (!wildcard && isIP(host) !== 0 && !ipAddresses.includes(host)) ipAddresses.push(host);
  if (isIP(host) === 0 && !dnsNames.includes(host)) dnsNames.push(host);
  return { dnsNames, ipAddresses };
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 1000);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startServing(options: ServingOptions): Promise<Serving> {
  const names = serverNames(options.host);
  const identity = await options.authority.issueServerCertificate(names);
  const tlsCredentials = grpc.ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(identity.certChainPem), private_key: Buffer.from(identity.privateKeyPem) }],
    false,
  );
  const make = (): grpc.Server => {
    const server = new grpc.Server();
    addDeltaAdsService(server, options.xds);
    addCaService(server, options.ca);
    return server;
  };
  const plaintext = make();
  const tls = make();
  try {
    const plaintextPort = await bindPort(
      plaintext,
      options.host,
      options.ports.plaintext,
      grpc.ServerCredentials.createInsecure(),
      { role: 'xDS/CA plaintext', flag: '--xds-plaintext-port' },
    );
    const tlsPort = await bindPort(tls, options.host, options.ports.tls, tlsCredentials, {
      role: 'xDS/CA TLS',
      flag: '--xds-tls-port',
    });
    return {
      ports: { plaintext: plaintextPort, tls: tlsPort },
      serverNames: names,
      close: async () => {
        options.xds.disconnectAll('control plane shutting down');
        await Promise.all([shutdown(plaintext), shutdown(tls)]);
      },
    };
  } catch (error) {
    plaintext.forceShutdown();
    tls.forceShutdown();
    throw error;
  }
}
