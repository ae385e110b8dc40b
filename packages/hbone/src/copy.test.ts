import { constants as h2 } from 'node:http2';
import { duplexPair, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyResetCode, splice } from './copy.ts';
import { overBudget } from './server-guard.ts';

describe('classifyResetCode', () => {
  it('reads NO_ERROR and CANCEL as EOF, STREAM_CLOSED as a broken pipe, the rest as resets', () => {
    expect(classifyResetCode(h2.NGHTTP2_NO_ERROR)).toBe('eof');
    expect(classifyResetCode(h2.NGHTTP2_CANCEL)).toBe('eof');
    expect(classifyResetCode(h2.NGHTTP2_STREAM_CLOSED)).toBe('broken-pipe');
    expect(classifyResetCode(h2.NGHTTP2_CONNECT_ERROR)).toBe('reset');
    expect(classifyResetCode(h2.NGHTTP2_INTERNAL_ERROR)).toBe('reset');
  });
});

async function collect(stream: Duplex): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('splice', () => {
  it('copies both ways, forwards each half-close separately, and counts bytes', async () => {
    const [app, appSide] = duplexPair();
    const [tunnelSide, peer] = duplexPair();
    const running = splice(appSide, tunnelSide);
    app.end('request');
    expect(await collect(peer)).toBe('request');
    // The other direction still flows after the first half-close.
    peer.end('response!');
    expect(await collect(app)).toBe('response!');
    expect(await running.done).toEqual({ aToB: 7, bToA: 9, outcome: 'clean' });
  });

  it('resets both sides on abort and reports the reason', async () => {
    const [app, appSide] = duplexPair();
    const [tunnelSide, peer] = duplexPair();
    app.on('error', () => {});
    peer.on('error', () => {});
    const running = splice(appSide, tunnelSide);
    running.abort(new Error('policy now denies this connection'));
    const result = await running.done;
    expect(result.outcome).toBe('reset');
    expect(result.error?.message).toBe('policy now denies this connection');
    expect(appSide.destroyed && tunnelSide.destroyed).toBe(true);
  });

  it('treats an error on one side as a failure and tears down the other', async () => {
    const [, appSide] = duplexPair();
    const [tunnelSide] = duplexPair();
    const running = splice(appSide, tunnelSide);
    appSide.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(await running.done).toMatchObject({ outcome: 'reset' });
    expect(tunnelSide.destroyed).toBe(true);
  });
});

describe('overBudget', () => {
  const tunnel = (held: number, flowing: boolean | null) => ({
    stream: { readableLength: held, readableFlowing: flowing } as never,
  });

  it('picks the biggest stalled tunnels until the total fits', () => {
    const small = tunnel(100, false);
    const big = tunnel(1000, null);
    const flowing = tunnel(5000, true);
    expect(overBudget([small, big, flowing], 10_000)).toEqual([]);
    expect(overBudget([small, big, flowing], 5500)).toEqual([big]);
    expect(overBudget([small, big, flowing], 100)).toEqual([big, small]);
  });
});
