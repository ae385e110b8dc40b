import { describe, expect, it } from 'vitest';
import { readControlPlane } from './control-plane-env.ts';
import { readOperator } from './operator-env.ts';
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

describe('readOperator', () => {
  it('binds metrics and readiness on the IPv6 wildcard unless IPV6_ENABLED=false; admin on loopback', () => {
    const dual = readOperator({}, { logFormat: 'plain', poolReleaseMs: 300_000 });
    expect(dual.statsAddress).toEqual({ host: '::', port: 15020 });
    expect(dual.adminAddress).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(dual.logging).toEqual({ level: 'info', format: 'plain' });
    const v4 = readOperator(
      { IPV6_ENABLED: 'false', READINESS_ADDR: ':9021', RUST_LOG: 'debug', POOL_UNUSED_RELEASE_TIMEOUT: '2m' },
      { logFormat: 'json', poolReleaseMs: 3_600_000 },
    );
    expect(v4.readinessAddress).toEqual({ host: '0.0.0.0', port: 9021 });
    expect(v4.logging).toEqual({ level: 'debug', format: 'json' });
    expect(v4.pool).toEqual({ maxStreamsPerConnection: 100, unusedReleaseTimeoutMs: 120_000 });
    expect(dual.pool.unusedReleaseTimeoutMs).toBe(300_000);
    expect(dual.terminationDeadlineMs).toBe(5000);
  });

  it('refuses an unknown LOG_FORMAT naming the choices', () => {
    expect(() => readOperator({ LOG_FORMAT: 'xml' }, { logFormat: 'json', poolReleaseMs: 1000 })).toThrow(
      /LOG_FORMAT: "xml" is not one of json, plain/,
    );
  });
});
