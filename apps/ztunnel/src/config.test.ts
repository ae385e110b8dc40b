import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, parseConfig, redactedConfig, variables } from './config.ts';
import { parseDuration } from '@ambient-ts/runtime';

const base = { PROXY_MODE: 'node', NODE_NAME: 'node-a', FAKE_CA: 'true', XDS_ADDRESS: 'localhost:15012' };

describe('parseConfig', () => {
  it('applies ztunnel defaults', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      proxyMode: 'node',
      xdsAddress: 'https://localhost:15012',
      caAddress: 'https://localhost:15012',
      xdsRootCa: './var/run/secrets/istio/root-cert.pem',
      authToken: './var/run/secrets/tokens/istio-token',
      clusterId: 'Kubernetes',
      clusterDomain: 'cluster.local',
      network: '',
      secretTtlMs: 86_400_000,
      enableSocks5: false,
      http2: { streamWindowSize: 4 << 20, connectionWindowSize: 16 << 20, frameSize: 1 << 20 },
      pool: { maxStreamsPerConnection: 100, unusedReleaseTimeoutMs: 300_000 },
      keepalive: { enabled: true, timeMs: 180_000, intervalMs: 180_000, retries: 9 },
      terminationDeadlineMs: 5000,
      enableResponseBaggage: true,
      ipv6Enabled: true,
      adminAddress: { host: '127.0.0.1', port: 15000 },
      statsAddress: { host: '::', port: 15020 },
      readinessAddress: { host: '::', port: 15021 },
      socks5Address: { host: '127.0.0.1', port: 15080 },
      outboundCaptureAddress: { host: '::', port: 15001 },
      inpodUds: '/var/run/ztunnel/ztunnel.sock',
    });
  });

  it('reads the in-pod knobs with their facts defaults: mark 1337 only in shared mode, reuse on, orig src best effort', () => {
    expect(parseConfig({ ...base, PROXY_MODE: 'shared' })).toMatchObject({
      packetMark: 1337,
      inpodPortReuse: true,
      originalSource: 'best-effort',
    });
    expect(parseConfig(base).packetMark).toBeUndefined();
    expect(
      parseConfig({
        ...base,
        PROXY_MODE: 'shared',
        PACKET_MARK: '42',
        INPOD_PORT_REUSE: 'false',
        ENABLE_ORIG_SRC: 'true',
      }),
    ).toMatchObject({ packetMark: 42, inpodPortReuse: false, originalSource: 'required' });
    expect(parseConfig({ ...base, PACKET_MARK: '7', ENABLE_ORIG_SRC: 'false' })).toMatchObject({
      packetMark: 7,
      originalSource: 'off',
    });
    expect(() => parseConfig({ ...base, PACKET_MARK: '-1' })).toThrow(/PACKET_MARK/);
    expect(() => parseConfig({ ...base, ENABLE_ORIG_SRC: 'maybe' })).toThrow(/ENABLE_ORIG_SRC/);
  });

  it('reads every documented knob', () => {
    const config = parseConfig({
      ...base,
      PROXY_MODE: 'dedicated',
      PROXY_WORKLOAD_INFO: 'default/web-1/web',
      CA_ADDRESS: 'http://127.0.0.1:15010',
      ISTIO_META_CLUSTER_ID: 'c1',
      CLUSTER_ID: 'ignored',
      SECRET_TTL: '1h30m',
      POOL_UNUSED_RELEASE_TIMEOUT: '90s',
      TERMINATION_GRACE_PERIOD_SECONDS: '30',
      IPV6_ENABLED: 'false',
      UNSTABLE_ENABLE_SOCKS5: 'true',
      XDS_HEADER_X_TEAM: 'a',
      ISTIO_META_FOO: 'bar',
      ISTIO_METAJSON_LABELS: '{"app":"x"}',
      ADMIN_ADDR: '127.0.0.9:15000',
      STATS_ADDR: ':25020',
      INPOD_UDS: '/tmp/agent/ztunnel.sock',
    });
    expect(config.inpodUds).toBe('/tmp/agent/ztunnel.sock');
    expect(config.outboundCaptureAddress).toEqual({ host: '0.0.0.0', port: 15001 }); // IPV6_ENABLED=false
    expect(config.proxyWorkloadInfo).toEqual({ namespace: 'default', name: 'web-1', serviceAccount: 'web' });
    expect(config.caAddress).toBe('http://127.0.0.1:15010');
    expect(config.clusterId).toBe('c1');
    expect(config.secretTtlMs).toBe(5_400_000);
    expect(config.pool.unusedReleaseTimeoutMs).toBe(90_000);
    expect(config.terminationDeadlineMs).toBe(25_000);
    expect(config.statsAddress).toEqual({ host: '0.0.0.0', port: 25020 });
    expect(config.adminAddress).toEqual({ host: '127.0.0.9', port: 15000 });
    expect(config.xdsHeaders).toEqual({ X_TEAM: 'a' });
    expect(config.proxyMetadata).toEqual({ CLUSTER_ID: 'c1', FOO: 'bar', LABELS: { app: 'x' } });
    expect(redactedConfig({ ...config, authToken: 'secret-token' })).toMatchObject({
      authToken: '<redacted>',
      xdsHeaders: { X_TEAM: '<redacted>' },
    });
  });

  it('PACKET_MARK defaults to 1337 in shared mode only, and is read when set', () => {
    expect(parseConfig({ ...base, PROXY_MODE: 'shared' }).packetMark).toBe(1337);
    expect(parseConfig(base).packetMark).toBeUndefined();
    const dedicated = { ...base, PROXY_MODE: 'dedicated', PROXY_WORKLOAD_INFO: 'default/web-1/web' };
    expect(parseConfig(dedicated).packetMark).toBeUndefined();
    expect(parseConfig({ ...dedicated, PACKET_MARK: '4242' }).packetMark).toBe(4242);
  });

  it('XDS_ADDRESS="" disables xDS when static config is given', () => {
    const config = parseConfig({ ...base, XDS_ADDRESS: '', LOCAL_XDS_PATH: '/tmp/x.yaml' });
    expect(config.xdsAddress).toBeUndefined();
    expect(config.localXdsPath).toBe('/tmp/x.yaml');
  });

  it.each([
    [{ PROXY_MODE: 'sidecar' }, 'PROXY_MODE', /not one of shared, dedicated, node/],
    [{ PROXY_MODE: 'dedicated' }, 'PROXY_WORKLOAD_INFO', /required with PROXY_MODE=dedicated/],
    [{ PROXY_WORKLOAD_INFO: 'a/b' }, 'PROXY_WORKLOAD_INFO', /<namespace>\/<name>\/<serviceAccount>/],
    [{ SECRET_TTL: '24 hours' }, 'SECRET_TTL', /not a duration; use a number with a unit/],
    [{ FAKE_CA: 'maybe' }, 'FAKE_CA', /not a boolean/],
    [{ HTTP2_FRAME_SIZE: '1000' }, 'HTTP2_FRAME_SIZE', /between 16384 and 16777215/],
    [{ POOL_MAX_STREAMS_PER_CONNECTION: '-3' }, 'POOL_MAX_STREAMS_PER_CONNECTION', /whole number/],
    [{ ADMIN_ADDR: 'localhost' }, 'ADMIN_ADDR', /host:port/],
    [{ LOCAL_XDS_PATH: 'a.yaml', LOCAL_XDS: 'workloads: []' }, 'LOCAL_XDS', /mutually exclusive/],
    [{ XDS_ADDRESS: '' }, 'XDS_ADDRESS', /no LOCAL_XDS_PATH/],
    [{ FAKE_CA: 'false', CA_ADDRESS: '', XDS_ADDRESS: '', LOCAL_XDS: 'x: 1' }, 'CA_ADDRESS', /FAKE_CA is not set/],
    [{ ISTIO_METAJSON_X: '{' }, 'ISTIO_METAJSON_X', /not valid JSON/],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT', /json, plain/],
    [{ PACKET_MARK: '0x539' }, 'PACKET_MARK', /whole number between 1 and 4294967295/],
  ])('rejects %o naming %s', (overrides, variable, message) => {
    let error: unknown;
    try {
      parseConfig({ ...base, ...overrides });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).message).toContain(variable);
  });

  it('--help lists every variable', () => {
    const text = helpText();
    for (const [name] of variables) expect(text).toContain(name);
    for (const required of [
      'XDS_ADDRESS',
      'CA_ADDRESS',
      'XDS_ROOT_CA',
      'CA_ROOT_CA',
      'AUTH_TOKEN',
      'FAKE_CA',
      'LOCAL_XDS_PATH',
      'CLUSTER_ID',
      'TRUST_DOMAIN',
      'NETWORK',
      'NODE_NAME',
      'PROXY_MODE',
      'PROXY_WORKLOAD_INFO',
      'UNSTABLE_ENABLE_SOCKS5',
      'SECRET_TTL',
      'HTTP2_STREAM_WINDOW_SIZE',
      'POOL_MAX_STREAMS_PER_CONNECTION',
      'KEEPALIVE_TIME',
      'CONNECTION_TERMINATION_DEADLINE',
      'ENABLE_RESPONSE_BAGGAGE',
      'IPV6_ENABLED',
      'PACKET_MARK',
    ]) {
      expect(text).toContain(required);
    }
  });

  it('parses durations', () => {
    expect(parseDuration('X', '300ms')).toBe(300);
    expect(parseDuration('X', '2h')).toBe(7_200_000);
    expect(() => parseDuration('X', '5')).toThrowError(/not a duration/);
    expect(() => parseDuration('X', '5mm')).toThrowError(/not a duration/);
  });
});
