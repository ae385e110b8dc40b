import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as security from '../generated/security.ts';
import type * as workload from '../generated/workload.ts';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL, SERVICE_TYPE_URL, WORKLOAD_TYPE_URL } from './registry.ts';
import { decodeResource, encodeResource } from './resource.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

const fullWorkload: workload.Workload = {
  uid: 'cluster1//v1/Pod/default/a',
  name: 'a',
  namespace: 'default',
  addresses: ['CgAAAQ==', 'IAENuAAAAAAAAAAAAAAAAQ=='],
  hostname: 'a.example.com',
  network: 'net1',
  tunnelProtocol: 'HBONE',
  trustDomain: 'td',
  serviceAccount: 'sa',
  waypoint: { address: { network: 'net1', address: 'CgAAAg==' }, hboneMtlsPort: 15008 },
  networkGateway: { hostname: { namespace: 'istio-system', hostname: 'gw.example.com' }, hboneMtlsPort: 15009 },
  node: 'node1',
  canonicalName: 'app',
  canonicalRevision: 'v1',
  workloadType: 'POD',
  workloadName: 'a-deploy',
  nativeTunnel: true,
  applicationTunnel: { protocol: 'PROXY', port: 15088 },
  services: {
    'default/a.default.svc.cluster.local': { ports: [{ servicePort: 80, targetPort: 8080, appProtocol: 'HTTP2' }] },
  },
  authorizationPolicies: ['default/p1'],
  status: 'UNHEALTHY',
  clusterId: 'c1',
  locality: { region: 'r', zone: 'z', subzone: 's' },
  networkMode: 'HOST_NETWORK',
  extensions: [{ name: 'ext', config: { '@type': 'type.googleapis.com/google.protobuf.UInt32Value', value: 7 } }],
  capacity: 3,
};

const fullService: workload.Service = {
  name: 'svc',
  namespace: 'default',
  hostname: 'svc.default.svc.cluster.local',
  addresses: [
    { network: 'net1', address: 'CgAAZA==' },
    { address: 'CgoAAA==', length: 16 },
  ],
  ports: [{ servicePort: 80, targetPort: 8080 }, { servicePort: 81 }],
  subjectAltNames: ['spiffe://td/ns/default/sa/svc'],
  waypoint: { hostname: { namespace: 'default', hostname: 'wp.default.svc.cluster.local' }, hboneMtlsPort: 15008 },
  loadBalancing: { routingPreference: ['NETWORK', 'REGION', 'ZONE'], mode: 'FAILOVER', healthPolicy: 'ALLOW_ALL' },
  ipFamilies: 'DUAL',
  extensions: [{ name: 'e', config: { '@type': 'type.googleapis.com/istio.workload.Locality', region: 'x' } }],
  canonical: true,
  ingressUseWaypoint: true,
  weightedWaypoints: [{ destination: { address: { address: 'CgAAAw==' }, hboneMtlsPort: 15008 }, weight: 10 }],
  visibility: 'NAMESPACE',
};

const fullPolicy: security.Authorization = {
  name: 'p',
  namespace: 'ns',
  scope: 'WORKLOAD_SELECTOR',
  action: 'DENY',
  rules: [
    {
      clauses: [
        {
          matches: [
            {
              namespaces: [{ exact: 'a' }],
              notNamespaces: [{ prefix: 'b' }],
              serviceAccounts: [{ namespace: 'ns', serviceAccount: 'sa' }],
              notServiceAccounts: [{ serviceAccount: 'x' }],
              principals: [{ suffix: '/sa/web' }, { presence: {} }],
              notPrincipals: [{ exact: '' }],
              sourceIps: [{ address: 'CgAAAA==', length: 8 }],
              notSourceIps: [{ address: 'AAAAAAAAAAAAAAAAAAAAAQ==', length: 128 }],
              destinationIps: [{ address: 'wKgAAA==', length: 16 }],
              notDestinationIps: [{ address: 'AQIDBA==' }],
              destinationPorts: [80, 443],
              notDestinationPorts: [9999],
            },
          ],
        },
        {},
      ],
    },
    {},
  ],
  dryRun: true,
  extensions: [{ name: 'x' }],
};

describe('decodeResource / encodeResource', () => {
  it.each([
    ['Address(workload)', ADDRESS_TYPE_URL, { workload: fullWorkload } as workload.Address],
    ['Address(service)', ADDRESS_TYPE_URL, { service: fullService } as workload.Address],
    ['Workload', WORKLOAD_TYPE_URL, fullWorkload],
    ['Service', SERVICE_TYPE_URL, fullService],
    ['Authorization', AUTHORIZATION_TYPE_URL, fullPolicy],
    ['empty Address', ADDRESS_TYPE_URL, {}],
    ['GLOBAL ALLOW policy (defaults omitted)', AUTHORIZATION_TYPE_URL, { name: 'g', namespace: 'istio-system' }],
  ])('round-trips %s through bytes', (_label, typeUrl, json) => {
    const bytes = encodeResource(typeUrl, json);
    expect(decodeResource(typeUrl, bytes)).toEqual(json);
    // re-encoding the decoded JSON gives identical bytes
    expect(hex(encodeResource(typeUrl, decodeResource(typeUrl, bytes)))).toBe(hex(bytes));
  });

  it('writes the wire format other proto3 encoders write', () => {
    // Match.destination_ports packed: field 9, wire type 2
    expect(
      hex(
        encodeResource(AUTHORIZATION_TYPE_URL, { rules: [{ clauses: [{ matches: [{ destinationPorts: [1, 2] }] }] }] }),
      ),
    ).toBe('2a080a0612044a020102');
    // Workload.uid is field 20 (tag a2 01), capacity field 27 (UInt32Value message)
    expect(hex(encodeResource(WORKLOAD_TYPE_URL, { uid: 'u', capacity: 2 }))).toBe('a2010175da01020802');
    // defaults are not written: scope GLOBAL, action ALLOW, empty strings
    expect(
      hex(encodeResource(AUTHORIZATION_TYPE_URL, { name: 'n', scope: 'GLOBAL', action: 'ALLOW', namespace: '' })),
    ).toBe('0a016e');
    // NetworkAddress: network 1, address 2, optional length 3 kept even when 0
    expect(
      hex(
        encodeResource('type.googleapis.com/istio.workload.NetworkAddress', {
          network: 'n',
          address: 'CgAAAQ==',
          length: 0,
        }),
      ),
    ).toBe('0a016e12040a0000011800');
  });

  it('decodes enums by name, unknown enum values as numbers, bytes as base64', () => {
    // Workload{tunnel_protocol=7 (unknown), addresses=[0a000001]}
    const bytes = fromHex('1a040a0000012807');
    expect(decodeResource(WORKLOAD_TYPE_URL, bytes)).toEqual({ addresses: ['CgAAAQ=='], tunnelProtocol: 7 });
    // explicitly encoded defaults are still omitted from JSON (proto3 has no presence for them)
    expect(decodeResource(WORKLOAD_TYPE_URL, fromHex('0a00280090010a'.slice(0, 8)))).toEqual({});
  });

  it('accepts original field names, enum numbers and URL-safe base64 when parsing JSON', () => {
    const a = encodeResource(WORKLOAD_TYPE_URL, { trust_domain: 'td', tunnel_protocol: 1, addresses: ['_____w'] });
    const b = encodeResource(WORKLOAD_TYPE_URL, {
      trustDomain: 'td',
      tunnelProtocol: 'HBONE',
      addresses: ['/////w=='],
    });
    expect(hex(a)).toBe(hex(b));
  });

  it('refuses malformed JSON with the path of the bad field', () => {
    expect(() => encodeResource(WORKLOAD_TYPE_URL, { tunnelProtocol: 'QUIC' })).toThrow(
      /Workload\.tunnelProtocol: unknown TunnelProtocol value "QUIC"/,
    );
    expect(() => encodeResource(WORKLOAD_TYPE_URL, { nope: 1 })).toThrow(/Workload\.nope: unknown field/);
    expect(() => encodeResource(WORKLOAD_TYPE_URL, { capacity: -1 })).toThrow(/capacity/);
    expect(() =>
      encodeResource(AUTHORIZATION_TYPE_URL, {
        rules: [{ clauses: [{ matches: [{ principals: [{ exact: 'a', prefix: 'b' }] }] }] }],
      }),
    ).toThrow(/only one of exact and prefix/);
    expect(() => encodeResource('type.googleapis.com/nope.Nope', {})).toThrow(/no schema for type URL/);
  });

  it('reports undecodable bytes as CODEC_DECODE_FAILED', () => {
    expect(() => decodeResource(ADDRESS_TYPE_URL, fromHex('0aff'))).toThrow(
      expect.objectContaining({ code: 'CODEC_DECODE_FAILED' }),
    );
  });

  it('keeps a "__proto__" map key (no prototype pollution)', () => {
    const json = { services: JSON.parse('{"__proto__": {"ports": [{"servicePort": 1}]}}') as Record<string, object> };
    const back = decodeResource(WORKLOAD_TYPE_URL, encodeResource(WORKLOAD_TYPE_URL, json)) as {
      services: Record<string, unknown>;
    };
    expect(Object.keys(back.services)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(back.services)).toBe(Object.prototype);
  });

  it('round-trips arbitrary workloads (property)', () => {
    const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b).toString('base64'));
    const text = fc.string({ minLength: 1, maxLength: 12 });
    const workload = fc.record(
      {
        uid: text,
        name: text,
        namespace: text,
        addresses: fc.array(ipv4, { minLength: 1, maxLength: 3 }),
        tunnelProtocol: fc.constantFrom('HBONE' as const, 'LEGACY_ISTIO_MTLS' as const),
        capacity: fc.integer({ min: 0, max: 1000 }),
        authorizationPolicies: fc.array(text, { minLength: 1, maxLength: 3 }),
        services: fc.dictionary(
          text,
          fc.record({
            ports: fc.array(
              fc.record({
                servicePort: fc.integer({ min: 1, max: 65535 }),
                targetPort: fc.integer({ min: 1, max: 65535 }),
              }),
              { minLength: 1, maxLength: 2 },
            ),
          }),
          { minKeys: 1, maxKeys: 2 },
        ),
      },
      { requiredKeys: ['uid'] },
    );
    fc.assert(
      fc.property(workload, (w) => {
        expect(decodeResource(ADDRESS_TYPE_URL, encodeResource(ADDRESS_TYPE_URL, { workload: w }))).toEqual({
          workload: w,
        });
      }),
      { numRuns: 200 },
    );
  });
});
