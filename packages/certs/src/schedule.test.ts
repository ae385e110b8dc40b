// Timing decisions: capped exponential backoff with jitter, and half-life refresh.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff, refreshTime } from './schedule.ts';

describe('backoffDelay', () => {
  it('doubles from 1 s and stops at 150 s (no jitter at random = 0.5)', () => {
    const delays = Array.from({ length: 10 }, (_, attempt) => backoffDelay(attempt, defaultBackoff, 0.5));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 150_000, 150_000]);
  });

  it('stays within ±20 % and never exceeds the cap (property)', () => {
    fc.assert(
      fc.property(fc.nat(200), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const delay = backoffDelay(attempt, defaultBackoff, random);
        const base = Math.min(1_000 * 2 ** Math.min(attempt, 64), 150_000);
        expect(delay).toBeLessThanOrEqual(150_000);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      }),
    );
  });
});

describe('refreshTime', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2026-01-02T00:00:00Z');
  const start = notBefore.getTime();

  it('is half-life without jitter, and up to `jitter` of the lifetime earlier with it', () => {
    expect(refreshTime({ notBefore, notAfter }, start, 0.05, 0)).toBe(start + 12 * 3_600_000);
    expect(refreshTime({ notBefore, notAfter }, start, 0.05, 0.999_999)).toBeCloseTo(start + 10.8 * 3_600_000, -3);
  });

  it('past half-life (backdated certificate): half the remaining life, at least 1 s', () => {
    const now = start + 20 * 3_600_000;
    expect(refreshTime({ notBefore, notAfter }, now, 0, 0)).toBe(now + 2 * 3_600_000);
    expect(refreshTime({ notBefore, notAfter }, notAfter.getTime() - 100, 0, 0)).toBe(notAfter.getTime() + 900);
    expect(refreshTime({ notBefore: notAfter, notAfter: notBefore }, start, 0, 0)).toBe(start + 1_000);
  });
});
