import { describe, expect, it } from 'vitest';
import { readControlPlane } from './control-plane-env.ts';
import { EnvError } from './env.ts';

const needs = { served: 'workloads', certificates: 'workload certificates' };

describe('readControlPlane', () => {
  it('defaults as Istio proxies do, and to istiod inside Kubernetes', () => {
    const local = readControlPlane({}, needs);
    expect([local.xdsAddress, local.caAddress, local.caRootCa]).toEqual([
      'https://localhost:15012',
      'https://localhost:15012',
      './var/run/secrets/istio/root-cert.pem',
    ]);
    expect(readControlPlane({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, needs).xdsAddress).toBe(
      'https://istiod.istio-system.svc:15012',
    );
    const cluster = readControlPlane({ ISTIO_META_CLUSTER_ID: 'east', CLUSTER_ID: 'west', XDS_HEADER_X: 'v' }, needs);
    expect(cluster.clusterId).toBe('east');
    expect(cluster.xdsHeaders).toEqual({ X: 'v' });
  });

  it('CA_ADDRESS follows XDS_ADDRESS, and an empty XDS_ADDRESS with static config disables xDS', () => {
    expect(readControlPlane({ XDS_ADDRESS: 'istiod:15012' }, needs).caAddress).toBe('https://istiod:15012');
    const staticOnly = readControlPlane({ XDS_ADDRESS: '', LOCAL_XDS_PATH: 'mesh.yaml', FAKE_CA: 'true' }, needs);
    expect(staticOnly.xdsAddress).toBeUndefined();
    expect(staticOnly.localXdsPath).toBe('mesh.yaml');
  });

  it.each([
    [{ LOCAL_XDS: 'a', LOCAL_XDS_PATH: 'b' }, 'LOCAL_XDS', /mutually exclusive/],
    [{ XDS_ADDRESS: '' }, 'XDS_ADDRESS', /no workloads to serve/],
    [{ XDS_ADDRESS: '', LOCAL_XDS: 'x', CA_ADDRESS: '' }, 'CA_ADDRESS', /workload certificates could not/],
    [{ FAKE_CA: 'maybe' }, 'FAKE_CA', /./],
  ])('%o is refused naming %s', (env, variable, message) => {
    const error = (() => {
      try {
        readControlPlane(env, needs);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(EnvError.isEnvError(error)).toBe(true);
    expect((error as EnvError).variable).toBe(variable);
    expect((error as EnvError).detail).toMatch(message);
  });
});
