import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { planDedicatedCapture } from './capture-listener.ts';
import { parseConfig } from './config.ts';

const netns = await import('@ambient-ts/netns');
const available = async () => ({ available: true as const, netns });

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, sink),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const config = (env: Record<string, string> = {}) =>
  parseConfig({
    PROXY_MODE: 'dedicated',
    PROXY_WORKLOAD_INFO: 'default/client/client',
    XDS_ADDRESS: '',
    FAKE_CA: 'true',
    LOCAL_XDS: 'workloads: []',
    ...env,
  });

describe('planDedicatedCapture', () => {
  it('marks with 1337 when PACKET_MARK is unset (Istio leaves dedicated mode unmarked: its rule would loop us)', async () => {
    const { log, lines } = capture();
    const plan = await planDedicatedCapture(config(), available, log);
    expect(plan?.mark).toBe(1337);
    expect(lines()).toEqual([]);
  });

  it('uses PACKET_MARK when set, and warns when the dedicated rule would not exempt it', async () => {
    const { log, lines } = capture();
    expect((await planDedicatedCapture(config({ PACKET_MARK: String(0x1539) }), available, log))?.mark).toBe(0x1539);
    expect(lines()).toEqual([]); // 0x539 under the 0xfff mask: exempt
    const plan = await planDedicatedCapture(config({ PACKET_MARK: '4242' }), available, log);
    expect(plan?.mark).toBe(4242);
    expect(lines()[0]).toMatchObject({
      level: 40,
      mark: 4242,
      msg: expect.stringMatching(/^PACKET_MARK=4242 is not 0x539 under the 0xfff mask .* would be redirected back/),
    });
  });

  it('plans nothing outside dedicated mode, and nothing where capture is unavailable', async () => {
    const { log, lines } = capture();
    expect(
      await planDedicatedCapture(
        parseConfig({ PROXY_MODE: 'node', XDS_ADDRESS: '', FAKE_CA: 'true', LOCAL_XDS: 'workloads: []' }),
        available,
        log,
      ),
    ).toBeUndefined();
    const unavailable = async () => ({ available: false as const, reason: 'no addon' });
    expect(await planDedicatedCapture(config(), unavailable, log)).toBeUndefined();
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ capture: 'unavailable', reason: 'no addon' });
  });
});
