// CA call order: priority, then request time; raising and removing queued fetches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FetchQueue, priorityRank, type Priority } from './fetch-queue.ts';

const priorities: Priority[] = ['realtime', 'warmup', 'background'];

describe('FetchQueue', () => {
  it('pops realtime before warmup before background, earliest first', () => {
    const queue = new FetchQueue<string>();
    queue.push('refresh', 'background', 1);
    queue.push('prefetch-late', 'warmup', 3);
    queue.push('prefetch-early', 'warmup', 2);
    queue.push('connection', 'realtime', 4);
    expect([queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop()]).toEqual([
      'connection',
      'prefetch-early',
      'prefetch-late',
      'refresh',
      undefined,
    ]);
  });

  it('raises a queued key but never lowers it; remove drops it', () => {
    const queue = new FetchQueue<string>();
    queue.push('a', 'background', 1);
    queue.push('b', 'warmup', 2);
    queue.push('a', 'realtime', 5);
    queue.push('b', 'background', 0);
    expect(queue.priorityOf('a')).toBe('realtime');
    expect(queue.priorityOf('b')).toBe('warmup');
    expect(queue.size).toBe(2);
    expect(queue.pop()).toBe('a');
    queue.push('c', 'realtime', 9);
    expect(queue.remove('c')).toBe(true);
    expect(queue.has('c')).toBe(false);
    expect(queue.pop()).toBe('b');
    expect(queue.pop()).toBeUndefined();
  });

  it('always pops in (priority desc, first request time asc) order (property)', () => {
    const op = fc.record({ key: fc.nat(15), priority: fc.constantFrom(...priorities), time: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const queue = new FetchQueue<number>();
        const model = new Map<number, { rank: number; time: number; order: number }>();
        ops.forEach(({ key, priority, time }, order) => {
          queue.push(key, priority, time);
          const existing = model.get(key);
          const rank = priorityRank[priority];
          if (!existing) model.set(key, { rank, time, order });
          else if (rank > existing.rank) existing.rank = rank;
        });
        const expected = [...model.entries()]
          .sort(([, a], [, b]) => b.rank - a.rank || a.time - b.time || a.order - b.order)
          .map(([key]) => key);
        const popped: number[] = [];
        for (let key = queue.pop(); key !== undefined; key = queue.pop()) popped.push(key);
        expect(popped).toEqual(expected);
      }),
    );
  });
});
