import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AccessLog, formatDuration } from './access-log.ts';
import { Logging, parseLevelSpec } from './logging.ts';

function capture(format: 'json' | 'plain' = 'json', level = 'info'): { logging: Logging; lines: () => string[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logging = new Logging({ format, level, destination: out });
  return {
    logging,
    lines: () => {
      logging.flush();
      return text.split('\n').filter(Boolean);
    },
  };
}

describe('Logging', () => {
  it('writes ztunnel-shaped JSON: level, time, scope, message, dotted fields', async () => {
    const { logging, lines } = capture();
    new AccessLog(logging.scope('access')).complete({
      'src.addr': '10.0.0.1:5000',
      'src.identity': 'spiffe://cluster.local/ns/a/sa/b',
      'dst.addr': '10.0.0.2:15008',
      'dst.hbone_addr': '10.0.0.2:8080',
      'dst.service': '',
      direction: 'outbound',
      bytes_sent: 11,
      bytes_recv: 22,
      duration: formatDuration(13.2),
    });
    await new Promise((resolve) => setImmediate(resolve));
    const [line] = lines();
    const record = JSON.parse(line!);
    expect(Object.keys(record).slice(0, 4)).toEqual(['level', 'time', 'scope', 'message']);
    expect(record).toMatchObject({
      level: 'info',
      scope: 'access',
      message: 'connection complete',
      'src.addr': '10.0.0.1:5000',
      'dst.hbone_addr': '10.0.0.2:8080',
      direction: 'outbound',
      bytes_sent: 11,
      bytes_recv: 22,
      duration: '13ms',
    });
    expect(record).not.toHaveProperty('dst.service'); // empty values are left out
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('logs failed connections at error level with the error', async () => {
    const { logging, lines } = capture();
    const access = new AccessLog(logging.scope('access'));
    access.complete({
      direction: 'inbound',
      error: 'connection closed due to policy rejection: allow policies exist, but none allowed',
    });
    access.failed({
      'src.addr': '1.1.1.1:1',
      'dst.addr': '2.2.2.2:15008',
      direction: 'inbound',
      error: 'tls handshake failed',
    });
    access.opened({ direction: 'inbound' }); // debug: hidden at info
    await new Promise((resolve) => setImmediate(resolve));
    const records = lines().map((line) => JSON.parse(line));
    expect(records.map((record) => [record.level, record.message])).toEqual([
      ['error', 'connection complete'],
      ['warn', 'connection failed'],
    ]);
  });

  it('changes levels per scope at run time and resets', async () => {
    const { logging, lines } = capture('json', 'info');
    const access = logging.scope('access');
    const xds = logging.scope('xds');
    access.debug('hidden');
    logging.setLevels('access:debug');
    access.debug('shown');
    xds.debug('hidden too');
    expect(logging.describe()).toBe('current log level is info,access:debug\n');
    logging.setLevels('error');
    access.warn('hidden after default change');
    logging.reset();
    xds.info('shown after reset');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines().map((line) => JSON.parse(line).message)).toEqual(['shown', 'shown after reset']);
    expect(() => logging.setLevels('access:loud')).toThrowError(/invalid log level "access:loud"/);
  });

  it('plain format writes one readable line', async () => {
    const { logging, lines } = capture('plain');
    logging.scope('proxy').info({ port: 15008 }, 'listening');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines()[0]).toMatch(/^\d{4}-.*\tinfo \tproxy\tlistening\tport=15008$/);
  });

  it('parses level specs', () => {
    expect(parseLevelSpec('info,access=debug, xds:warn')).toEqual({
      defaultLevel: 'info',
      scopes: { access: 'debug', xds: 'warn' },
    });
    expect(() => parseLevelSpec('verbose')).toThrowError(/invalid log level/);
  });
});
