// A CA server on port 0 with a token issuer and a "who runs where" view, for integration tests.
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import {
  CaServer,
  CertificateAuthority,
  NodeIdentityMap,
  NodeTokenIssuer,
  type CaEvent,
  type CaServerOptions,
  type NodeTokenClaims,
} from '@ambient-ts/ca';

export const ztunnelId = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
export const webId = 'spiffe://cluster.local/ns/default/sa/web';
export const dbId = 'spiffe://cluster.local/ns/data/sa/db';

export interface TestCa {
  authority: CertificateAuthority;
  issuer: NodeTokenIssuer;
  view: NodeIdentityMap;
  server: CaServer;
  address: string;
  port: number;
  events: CaEvent[];
  token(node: string, claims?: Partial<NodeTokenClaims>): Promise<string>;
  close(): Promise<void>;
}

export async function startCa(
  options: Partial<CaServerOptions> & { authority?: CertificateAuthority; issuer?: NodeTokenIssuer } = {},
): Promise<TestCa> {
  const authority = options.authority ?? (await CertificateAuthority.create({ trustDomain: 'cluster.local' }));
  const issuer = options.issuer ?? (await NodeTokenIssuer.create());
  const view = new NodeIdentityMap().add('node-a', webId).add('node-b', dbId);
  const events: CaEvent[] = [];
  const server = new CaServer({
    tokenVerifier: issuer.verifier(),
    nodeView: view,
    onEvent: (event) => events.push(event),
    ...options,
    authority,
  });
  const port = await server.listen(0);
  return {
    authority,
    issuer,
    view,
    server,
    port,
    address: server.address,
    events,
    token: (node, claims = {}) => issuer.issue({ node, identity: ztunnelId, ...claims }),
    close: () => server.close(0),
  };
}

/** Istio's CA messages declared independently of protos/ and the generated descriptor. */
export const independentProto = protobuf.parse(
  `syntax = "proto3";
   package google.protobuf;
   message Struct { map<string, Value> fields = 1; }
   message Value {
     oneof kind {
       NullValue null_value = 1; double number_value = 2; string string_value = 3;
       bool bool_value = 4; Struct struct_value = 5; ListValue list_value = 6;
     }
   }
   enum NullValue { NULL_VALUE = 0; }
   message ListValue { repeated Value values = 1; }`,
  { keepCase: true },
).root;
protobuf.parse(
  `syntax = "proto3";
   package istio.v1.auth;
   message IstioCertificateRequest { string csr = 1; int64 validity_duration = 3; google.protobuf.Struct metadata = 4; }
   message IstioCertificateResponse { repeated string cert_chain = 1; }`,
  independentProto,
  { keepCase: true },
);
export const independentRequest = independentProto.lookupType('istio.v1.auth.IstioCertificateRequest');
export const independentResponse = independentProto.lookupType('istio.v1.auth.IstioCertificateResponse');

export interface FakeCall {
  request: Record<string, unknown>;
  headers: Record<string, unknown>;
}

/**
 * A CA impostor on port 0 that records raw requests and answers with whatever `answer` returns
 * (a cert_chain), encoded with the independent message definitions.
 */
export async function startFakeCa(
  answer: (request: Record<string, unknown>) => string[],
  tls?: { certChainPem: string; privateKeyPem: string },
): Promise<{ port: number; calls: FakeCall[]; close(): void }> {
  const calls: FakeCall[] = [];
  const raw = (value: Buffer): Buffer => value;
  const definition: ServiceDefinition = {
    CreateCertificate: {
      path: '/istio.v1.auth.IstioCertificateService/CreateCertificate',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  };
  const server = new Server();
  server.addService(definition, {
    CreateCertificate: (
      call: { request: Buffer; metadata: { getMap(): Record<string, unknown> } },
      callback: (error: null, value: Buffer) => void,
    ) => {
      const request = independentRequest.toObject(independentRequest.decode(call.request), { longs: Number });
      calls.push({ request, headers: call.metadata.getMap() });
      const response = independentResponse.fromObject({ cert_chain: answer(request) });
      callback(null, Buffer.from(independentResponse.encode(response).finish()));
    },
  });
  const credentials = tls
    ? ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(tls.certChainPem), private_key: Buffer.from(tls.privateKeyPem) },
      ])
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, calls, close: () => server.forceShutdown() };
}
