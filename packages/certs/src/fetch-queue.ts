// The order CA calls are made in: higher priority first (a connection waiting > a workload that just
// appeared > a scheduled refresh), then the earliest request. A queued fetch can be raised or removed.

export type Priority = 'realtime' | 'warmup' | 'background';

export const priorityRank: Record<Priority, number> = { realtime: 2, warmup: 1, background: 0 };

export function higher(a: Priority, b: Priority): Priority {
  return priorityRank[a] >= priorityRank[b] ? a : b;
}

interface Node<K> {
  key: K;
  rank: number;
  time: number;
  seq: number;
}

function before<K>(a: Node<K>, b: Node<K>): boolean {
  return a.rank !== b.rank ? a.rank > b.rank : a.time !== b.time ? a.time < b.time : a.seq < b.seq;
}

/** Binary heap with lazy deletion: stale nodes (raised or removed keys) are skipped when popped. */
export class FetchQueue<K> {
  #heap: Node<K>[] = [];
  #live = new Map<K, Node<K>>();
  #seq = 0;

  get size(): number {
    return this.#live.size;
  }

  has(key: K): boolean {
    return this.#live.has(key);
  }

  priorityOf(key: K): Priority | undefined {
    const node = this.#live.get(key);
    if (!node) return undefined;
    return (Object.keys(priorityRank) as Priority[]).find((name) => priorityRank[name] === node.rank);
  }

  /** Queue `key`, or raise it if it is queued lower; a queued key keeps its original request time. */
  push(key: K, priority: Priority, time: number): void {
    const existing = this.#live.get(key);
    const rank = priorityRank[priority];
    if (existing && existing.rank >= rank) return;
    const node = { key, rank, time: existing?.time ?? time, seq: existing?.seq ?? this.#seq++ };
    this.#live.set(key, node);
    this.#insert(node);
  }

  remove(key: K): boolean {
    return this.#live.delete(key);
  }

  pop(): K | undefined {
    while (this.#heap.length > 0) {
      const top = this.#extract();
      if (this.#live.get(top.key) === top) {
        this.#live.delete(top.key);
        return top.key;
      }
    }
    return undefined;
  }

  #insert(node: Node<K>): void {
    const heap = this.#heap;
    heap.push(node);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  #extract(): Node<K> {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let best = index;
        if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
        if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
        if (best === index) break;
        [heap[index], heap[best]] = [heap[best]!, heap[index]!];
        index = best;
      }
    }
    return top;
  }
}
