// The grpc-js definition of envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources.
import {
  DELTA_ADS_PATH,
  decodeDeltaRequest,
  decodeDeltaResponse,
  encodeDeltaRequest,
  encodeDeltaResponse,
} from '@ambient-ts/istio-api';

export const deltaAdsDefinition = {
  DeltaAggregatedResources: {
    path: DELTA_ADS_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeDeltaRequest,
    requestDeserialize: decodeDeltaRequest,
    responseSerialize: encodeDeltaResponse,
    responseDeserialize: decodeDeltaResponse,
    originalName: 'deltaAggregatedResources',
  },
} as const;
