import { describe, expect, it } from 'vitest';
import { gatewayNameFromPod, helpText, parseConfig, redactedConfig, variables, waypointIdentity } from './config.ts';
import { WaypointError } from './errors.ts';

const minimal = {
  INSTANCE_IP: '127.0.2.10',
  POD_NAMESPACE: 'default',
  POD_NAME: 'waypoint-7c9f8d6b5-x2x4z',
  FAKE_CA: 'true',
};

describe('parseConfig', () => {
  it('derives the gateway and identity from the pod, with Istio defaults', () => {
    const config = parseConfig(minimal);
    expect(config.self).toMatchObject({
      gatewayName: 'waypoint',
      serviceAccount: 'waypoint',
      trustDomain: 'cluster.local',
      instanceIp: '127.0.2.10',
    });
    expect(waypointIdentity(config)).toBe('spiffe://cluster.local/ns/default/sa/waypoint');
    expect(config).toMatchObject({
      xdsAddress: 'https://localhost:15012',
      hbonePort: 15008,
      rootNamespace: 'istio-system',
      pathNormalization: 'BASE',
    });
    expect(config.statsAddress).toEqual({ host: '::', port: 15020 });
  });

  it('takes explicit names and addresses', () => {
    const config = parseConfig({
      ...minimal,
      GATEWAY_NAME: 'wp',
      SERVICE_ACCOUNT: 'sa',
      TRUST_DOMAIN: 'td.example',
      XDS_ADDRESS: 'http://127.0.0.1:15010',
      ADMIN_ADDR: ':0',
      IPV6_ENABLED: 'false',
      STATS_ADDR: ':9',
    });
    expect(waypointIdentity(config)).toBe('spiffe://td.example/ns/default/sa/sa');
    expect(config.xdsAddress).toBe('http://127.0.0.1:15010');
    expect(config.adminAddress).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.statsAddress).toEqual({ host: '0.0.0.0', port: 9 });
  });

  it.each([
    [{ INSTANCE_IP: undefined }, 'INSTANCE_IP', 'is required'],
    [{ INSTANCE_IP: 'localhost' }, 'INSTANCE_IP', 'is not an IPv4 or IPv6 address'],
    [{ POD_NAMESPACE: undefined }, 'POD_NAMESPACE', 'is required'],
    [{ POD_NAME: undefined }, 'GATEWAY_NAME', 'is required when POD_NAME is not set'],
    [{ GATEWAY_NAME: 'Bad_Name' }, 'GATEWAY_NAME', 'is not a DNS label'],
    [{ SECRET_TTL: 'forever' }, 'SECRET_TTL', 'is not a duration'],
    [{ PATH_NORMALIZATION: 'SOME' }, 'PATH_NORMALIZATION', 'is not one of NONE, BASE'],
    [{ STATS_ADDR: 'nope' }, 'STATS_ADDR', 'is not an address'],
    [{ XDS_ADDRESS: '' }, 'XDS_ADDRESS', 'no LOCAL_XDS_PATH or LOCAL_XDS'],
    [{ FAKE_CA: undefined, XDS_ADDRESS: '', CA_ADDRESS: '', LOCAL_XDS: 'x' }, 'CA_ADDRESS', 'FAKE_CA is not set'],
    [{ LOCAL_XDS: 'a', LOCAL_XDS_PATH: 'b' }, 'LOCAL_XDS', 'mutually exclusive'],
  ])('rejects %j naming %s', (change, variable, message) => {
    let error: unknown;
    try {
      parseConfig({ ...minimal, ...change });
    } catch (caught) {
      error = caught;
    }
    expect(WaypointError.isWaypointError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', variable });
    expect((error as Error).message).toContain(`invalid ${variable}: `);
    expect((error as Error).message).toContain(message);
  });

  it('names gateways from Deployment pod names only', () => {
    expect(gatewayNameFromPod('waypoint-5d8f7c9b6-x2x4z')).toBe('waypoint');
    expect(gatewayNameFromPod('my-waypoint-66b9c4d7f-abcde')).toBe('my-waypoint');
    expect(gatewayNameFromPod('waypoint')).toBe('waypoint');
  });

  it('documents every variable it reads and redacts literal tokens', () => {
    for (const [name] of variables) expect(helpText()).toContain(name);
    expect(redactedConfig(parseConfig({ ...minimal, AUTH_TOKEN: 'secret' }))['authToken']).toBe('<redacted>');
    expect(redactedConfig(parseConfig({ ...minimal, AUTH_TOKEN: '/var/token' }))['authToken']).toBe('/var/token');
  });
});
