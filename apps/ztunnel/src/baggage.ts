// The W3C baggage ztunnel sends about a workload: on outbound CONNECTs (the source) and in the 200
// answer of inbound ones (the destination, when ENABLE_RESPONSE_BAGGAGE is on).
import type { Workload } from '@ambient-ts/discovery';
import { formatBaggage } from '@ambient-ts/hbone';

export function baggageOf(workload: Workload): string {
  return formatBaggage({
    clusterId: workload.clusterId,
    namespace: workload.namespace,
    workloadType: workload.workloadType,
    workloadName: workload.workloadName,
    service: workload.canonicalName,
    revision: workload.canonicalRevision,
    region: workload.locality.region,
    zone: workload.locality.zone,
  });
}
