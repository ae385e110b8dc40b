// The DNS variables of config.ts (facts §8.2): ISTIO_META_DNS_CAPTURE, ISTIO_META_DNS_PROXY_ADDR,
// PREFERED_SERVICE_NAMESPACE and our DNS_RESOLV_CONF / DNS_UPSTREAM_TIMEOUT.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';

const base = { PROXY_MODE: 'node', NODE_NAME: 'node-a', FAKE_CA: 'true', XDS_ADDRESS: 'localhost:15012' };

describe('DNS configuration', () => {
  it.each([
    [undefined, true],
    ['true', true],
    ['TRUE', true],
    ['false', false],
    ['', false],
    ['yes', false],
    ['1', false],
  ])('ISTIO_META_DNS_CAPTURE=%s → capture %s (only "true", any case, or unset enables)', (value, capture) => {
    const env = value === undefined ? base : { ...base, ISTIO_META_DNS_CAPTURE: value };
    expect(parseConfig(env).dns.capture).toBe(capture);
  });

  it('defaults: localhost:15053 on 127.0.0.1 and ::1, /etc/resolv.conf, no preferred namespace', () => {
    expect(parseConfig(base).dns).toEqual({
      capture: true,
      address: { hosts: ['127.0.0.1', '::1'], port: 15053 },
      addressSet: false,
      resolvConf: '/etc/resolv.conf',
    });
    expect(parseConfig({ ...base, IPV6_ENABLED: 'false' }).dns.address.hosts).toEqual(['127.0.0.1']);
  });

  it('reads the address, the preferred namespace, the resolv.conf path and the upstream timeout', () => {
    const dns = parseConfig({
      ...base,
      ISTIO_META_DNS_PROXY_ADDR: '127.0.9.1:5353',
      PREFERED_SERVICE_NAMESPACE: 'istio-system',
      DNS_RESOLV_CONF: '/tmp/resolv.conf',
      DNS_UPSTREAM_TIMEOUT: '250ms',
    }).dns;
    expect(dns).toMatchObject({
      address: { hosts: ['127.0.9.1'], port: 5353 },
      addressSet: true,
      preferredServiceNamespace: 'istio-system',
      resolvConf: '/tmp/resolv.conf',
      upstreamTimeoutMs: 250,
    });
    expect(parseConfig({ ...base, ISTIO_META_DNS_PROXY_ADDR: '[::1]:53' }).dns.address).toEqual({
      hosts: ['::1'],
      port: 53,
    });
  });

  it('a bad address names the variable', () => {
    expect(() => parseConfig({ ...base, ISTIO_META_DNS_PROXY_ADDR: 'nope' })).toThrow(/ISTIO_META_DNS_PROXY_ADDR/);
  });
});
