// Shared builders for the integration tests.
import { ipToBytes } from '@ambient-ts/addresses';
import { ADDRESS_TYPE_URL, type workload } from '@ambient-ts/istio-api';
import { addressResource } from '../src/index.ts';

export function b64ip(ip: string): string {
  return Buffer.from(ipToBytes(ip)!).toString('base64');
}

export function workloadAddress(name: string, ip: string, extra: Partial<workload.Workload> = {}): workload.Address {
  return {
    workload: {
      uid: `Kubernetes//Pod/default/${name}`,
      name,
      namespace: 'default',
      addresses: [b64ip(ip)],
      tunnelProtocol: 'HBONE',
      node: 'node1',
      ...extra,
    },
  };
}

export function upsertWorkloads(...addresses: workload.Address[]) {
  return { typeUrl: ADDRESS_TYPE_URL, upsert: addresses.map((a) => addressResource(a)) };
}

/** Resolve when `check` returns true, polling; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
