import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlPlaneError } from '../errors.ts';
import { parseServeArgs, resolveServeOptions } from './options.ts';

describe('serve options', () => {
  it('takes serve flags in both forms, passes translation flags through, keeps files in order', () => {
    expect(
      parseServeArgs([
        '--state-dir',
        '/tmp/s',
        'a.yaml',
        '--xds-tls-port=0',
        '--trust-domain=example.org',
        '--no-watch',
        '--xds-plaintext-port',
        '1501',
        '--log-format=json',
        '--log-level=debug',
        'dir',
      ]),
    ).toEqual({
      options: {
        stateDir: '/tmp/s',
        xdsTlsPort: 0,
        watch: false,
        xdsPlaintextPort: 1501,
        translate: { trustDomain: 'example.org' },
        files: ['a.yaml', 'dir'],
      },
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it.each([
    [['--xds-tls-port=x', 'a.yaml'], '--xds-tls-port "x" is not a port'],
    [['--state-dir'], '--state-dir needs a value'],
    [['--log-format=xml', 'a.yaml'], '--log-format must be plain or json'],
    [['--bogus=1', 'a.yaml'], 'unknown flag --bogus'],
    [['--host=127.0.0.1'], 'serve needs at least one YAML file or directory'],
  ])('refuses %j with USAGE', (args, message) => {
    let caught: unknown;
    try {
      parseServeArgs(args);
    } catch (error) {
      caught = error;
    }
    expect(ControlPlaneError.isControlPlaneError(caught) && caught.code).toBe('USAGE');
    expect((caught as Error).message).toContain(message);
  });

  it("defaults like istiod's ports on loopback, state in .mesh under the current directory", () => {
    const resolved = resolveServeOptions({ files: ['mesh.yaml'] });
    expect(resolved).toMatchObject({
      files: ['mesh.yaml'],
      stateDir: resolve('.mesh'),
      host: '127.0.0.1',
      ports: { plaintext: 15010, tls: 15012 },
      watch: true,
      tokenTtlSeconds: 86_400,
    });
    expect(resolved.translate.trustDomain).toBe('cluster.local');
  });

  it('refuses a host that is neither an IP nor localhost, and a short token lifetime', () => {
    expect(() => resolveServeOptions({ files: ['a'], host: 'example.com' })).toThrow(/not an IP address or localhost/);
    expect(() => resolveServeOptions({ files: ['a'], tokenTtlSeconds: 5 })).toThrow(/at least 60/);
  });
});
