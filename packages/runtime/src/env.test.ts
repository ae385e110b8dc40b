import { describe, expect, it } from 'vitest';
import {
  EnvError,
  parseBool,
  parseChoice,
  parseDuration,
  parseHostPort,
  parseInteger,
  parseIp,
  read,
  withPrefix,
} from './env.ts';

function failure(run: () => unknown): EnvError {
  try {
    run();
  } catch (error) {
    if (EnvError.isEnvError(error)) return error;
    throw error;
  }
  throw new Error('expected an EnvError');
}

describe('environment parsers', () => {
  it('parse what they accept', () => {
    expect(parseDuration('X', '1h30m')).toBe(5_400_000);
    expect(parseDuration('X', '250ms')).toBe(250);
    expect(parseBool('X', 'TRUE')).toBe(true);
    expect(parseBool('X', 'off')).toBe(false);
    expect(parseInteger('X', '42', 1, 100)).toBe(42);
    expect(parseHostPort('X', '[::1]:15000')).toEqual({ host: '::1', port: 15000 });
    expect(parseHostPort('X', ':15020', '::')).toEqual({ host: '::', port: 15020 });
    expect(parseIp('X', ' 10.0.0.1 ')).toBe('10.0.0.1');
    expect(parseChoice(['a', 'b'] as const)('X', 'b')).toBe('b');
    expect(read({ X: '' }, 'X', 7, (v, t) => parseInteger(v, t, 0))).toBe(7);
    expect(withPrefix({ XDS_HEADER_A: '1', XDS_HEADER_: 'skip', OTHER: '2' }, 'XDS_HEADER_')).toEqual({ A: '1' });
  });

  it.each([
    [() => parseDuration('SECRET_TTL', '24'), 'SECRET_TTL', 'not a duration; use a number with a unit'],
    [() => parseBool('FAKE_CA', 'maybe'), 'FAKE_CA', 'not a boolean; use true or false'],
    [() => parseInteger('N', '3.5', 1, 10), 'N', 'not a whole number between 1 and 10'],
    [() => parseHostPort('ADMIN_ADDR', 'localhost'), 'ADMIN_ADDR', 'use host:port, [ipv6]:port or :port'],
    [() => parseHostPort('ADMIN_ADDR', 'x:70000'), 'ADMIN_ADDR', 'use host:port'],
    [() => parseIp('INSTANCE_IP', 'pod-1'), 'INSTANCE_IP', 'not an IPv4 or IPv6 address'],
    [() => parseChoice(['json', 'plain'])('LOG_FORMAT', 'xml'), 'LOG_FORMAT', 'not one of json, plain'],
  ])('name the variable and the accepted form (%#)', (run, variable, detail) => {
    const error = failure(run);
    expect(error.variable).toBe(variable);
    expect(error.detail).toContain(detail);
    expect(error.message).toBe(`invalid ${variable}: ${error.detail}`);
    expect(error.code).toBe('INVALID_CONFIG');
  });
});
