import { describe, expect, it } from 'vitest';
import { descriptor } from '../generated/descriptor.ts';
import { CREATE_CERTIFICATE_PATH } from './ca.ts';
import {
  DELTA_ADS_PATH,
  decodeDeltaRequest,
  decodeDeltaResponse,
  encodeDeltaRequest,
  encodeDeltaResponse,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from './delta.ts';
import { enumName, enumNames } from './enums.ts';
import { decodeMessage, encodeMessage } from './resource.ts';

describe('delta xDS messages', () => {
  it('round-trips a request with node metadata and a NACK error_detail', () => {
    const request: DeltaDiscoveryRequest = {
      node: { id: 'ztunnel~1.1.1.1~z.istio-system~istio-system.svc.cluster.local', metadata: { NAME: 'z', N: 2 } },
      typeUrl: 'type.googleapis.com/istio.security.Authorization',
      resourceNamesSubscribe: ['*'],
      resourceNamesUnsubscribe: [],
      initialResourceVersions: { 'ns/p': 'v1' },
      responseNonce: '7',
      errorDetail: { code: 3, message: 'ns/p: rules[0]: bad' },
    };
    expect(decodeDeltaRequest(encodeDeltaRequest(request))).toEqual(request);
  });

  it('round-trips a response keeping resource payloads as bytes', () => {
    const response: DeltaDiscoveryResponse = {
      systemVersionInfo: '3',
      typeUrl: 'type.googleapis.com/example.Thing',
      nonce: '9',
      removedResources: ['gone'],
      resources: [
        {
          name: 'x',
          version: 'v',
          aliases: ['/10.0.0.1'],
          resource: { typeUrl: 'type.googleapis.com/example.Thing', value: new Uint8Array([1, 2, 3]) },
        },
      ],
    };
    const back = decodeDeltaResponse(encodeDeltaResponse(response));
    expect({
      ...back,
      resources: back.resources.map((r) => ({ ...r, resource: { ...r.resource!, value: [...r.resource!.value] } })),
    }).toEqual({
      ...response,
      resources: [
        { ...response.resources[0], resource: { typeUrl: 'type.googleapis.com/example.Thing', value: [1, 2, 3] } },
      ],
    });
  });
});

describe('the Istio CA messages and method paths', () => {
  it('names services that exist in the descriptor', () => {
    const nested = descriptor.nested;
    expect(Object.keys(nested.istio.nested.v1.nested.auth.nested.IstioCertificateService.methods)).toEqual([
      'CreateCertificate',
    ]);
    expect(CREATE_CERTIFICATE_PATH).toBe('/istio.v1.auth.IstioCertificateService/CreateCertificate');
    expect(
      Object.keys(nested.envoy.nested.service.nested.discovery.nested.v3.nested.AggregatedDiscoveryService.methods),
    ).toContain('DeltaAggregatedResources');
    expect(DELTA_ADS_PATH).toBe('/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources');
  });

  it('carries Struct metadata as plain JSON and int64 as a decimal string', () => {
    const bytes = encodeMessage('istio.v1.auth.IstioCertificateRequest', {
      csr: 'PEM',
      validityDuration: '86400',
      metadata: { ImpersonatedIdentity: 'spiffe://td/ns/a/sa/b', n: 1, ok: true, list: [null, 'x'] },
    });
    expect(decodeMessage('istio.v1.auth.IstioCertificateRequest', bytes)).toEqual({
      csr: 'PEM',
      validityDuration: '86400',
      metadata: { ImpersonatedIdentity: 'spiffe://td/ns/a/sa/b', n: 1, ok: true, list: [null, 'x'] },
    });
    expect(
      decodeMessage(
        'istio.v1.auth.IstioCertificateResponse',
        encodeMessage('istio.v1.auth.IstioCertificateResponse', { certChain: ['a', 'b'] }),
      ),
    ).toEqual({ certChain: ['a', 'b'] });
    expect(() => decodeMessage('istio.v1.auth.IstioCertificateRequest', new Uint8Array([0x0a, 0xff]))).toThrow(
      expect.objectContaining({ code: 'CODEC_DECODE_FAILED' }),
    );
  });
});

describe('generated enums', () => {
  it('name values by name or number, defaulting when absent and refusing unknown ones', () => {
    expect(enumName('istio.workload.TunnelProtocol', undefined)).toBe('NONE');
    expect(enumName('istio.workload.TunnelProtocol', 1)).toBe('HBONE');
    expect(enumName('istio.workload.TunnelProtocol', 'LEGACY_ISTIO_MTLS')).toBe('LEGACY_ISTIO_MTLS');
    expect(enumName('istio.workload.TunnelProtocol', 'QUIC')).toBeUndefined();
    expect(enumName('istio.security.Scope', 3)).toBeUndefined();
    expect(enumNames('istio.workload.LoadBalancing.Mode')).toEqual([
      'UNSPECIFIED_MODE',
      'STRICT',
      'FAILOVER',
      'PASSTHROUGH',
    ]);
  });
});
