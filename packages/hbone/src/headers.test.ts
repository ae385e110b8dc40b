import { describe, expect, it } from 'vitest';
import {
  formatBaggage,
  formatForwarded,
  isFromOtherNetwork,
  newTraceparent,
  parseBaggage,
  parseForwarded,
  parseTraceparent,
} from './headers.ts';

describe('baggage', () => {
  it('formats in ztunnel order and leaves empty values out', () => {
    expect(
      formatBaggage({
        clusterId: 'Kubernetes',
        namespace: 'default',
        workloadType: 'deployment',
        workloadName: 'echo',
        service: 'echo',
        revision: 'v1',
        region: '',
        zone: 'zone-a',
      }),
    ).toBe(
      'k8s.cluster.name=Kubernetes,k8s.namespace.name=default,k8s.deployment.name=echo,service.name=echo,service.version=v1,cloud.availability_zone=zone-a',
    );
    expect(formatBaggage({})).toBe('');
  });

  it('parses what it formats, across several header values, ignoring unknown members', () => {
    const fields = {
      clusterId: 'c1',
      namespace: 'ns',
      workloadType: 'job',
      workloadName: 'j',
      service: 's',
      revision: 'r',
      region: 'eu',
      zone: 'z',
    };
    expect(parseBaggage(formatBaggage(fields))).toEqual(fields);
    expect(
      parseBaggage(['k8s.namespace.name=a;prop=1', 'other=x, service.name = svc', 'k8s.widget.name=w', 'junk']),
    ).toEqual({
      namespace: 'a',
      service: 'svc',
    });
    expect(parseBaggage(undefined)).toEqual({});
  });
});

describe('forwarded', () => {
  it("formats ztunnel's for= with optional host, IPv6 in brackets", () => {
    expect(formatForwarded({ address: '10.0.0.5', port: 43210 }, 'echo.default.svc.cluster.local')).toBe(
      'for="10.0.0.5:43210";host=echo.default.svc.cluster.local',
    );
    expect(formatForwarded({ address: 'fd00::5', port: 1 })).toBe('for="[fd00::5]:1"');
  });

  it('parses the first element', () => {
    expect(parseForwarded('for="10.0.0.5:43210";host=echo.svc, for=1.1.1.1')).toEqual({
      for: '10.0.0.5:43210',
      host: 'echo.svc',
    });
    expect(parseForwarded(undefined)).toEqual({});
  });
});

describe('traceparent', () => {
  it('generates fresh W3C values that parse', () => {
    const a = newTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(newTraceparent()).not.toBe(a);
    expect(parseTraceparent(a).version).toBe('00');
  });

  it.each([
    '',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
  ])('rejects %j', (value) => expect(() => parseTraceparent(value)).toThrow(/traceparent/));
});

describe('x-forwarded-network', () => {
  it('is from another network only when present and different (case-insensitive)', () => {
    expect(isFromOtherNetwork({ 'x-forwarded-network': 'Net-B' }, 'net-a')).toBe(true);
    expect(isFromOtherNetwork({ 'x-forwarded-network': 'NET-A' }, 'net-a')).toBe(false);
    expect(isFromOtherNetwork({}, 'net-a')).toBe(false);
  });
});
