import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.ts';

describe('ManualClock', () => {
  it('fires due timers in order, including ones scheduled by callbacks, and skips cancelled ones', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@300'), 300);
    const cancelled = clock.setTimer(() => fired.push('never'), 100);
    clock.setTimer(() => {
      fired.push('a@200');
      clock.setTimer(() => fired.push(`c@${clock.now() - 1_000}`), 50);
    }, 200);
    cancelled.cancel();
    expect(clock.pendingTimers).toBe(2);
    expect(clock.nextDue()).toBe(1_200);
    clock.advance(260);
    expect(fired).toEqual(['a@200', 'c@250']);
    expect(clock.now()).toBe(1_260);
    clock.advanceTo(5_000);
    expect(fired).toEqual(['a@200', 'c@250', 'b@300']);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('systemClock', () => {
  it('runs and cancels real timers', async () => {
    const fired: number[] = [];
    const cancelled = systemClock.setTimer(() => fired.push(2), 1);
    cancelled.cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 5));
    expect(fired).toEqual([]);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1_000);
  });
});
