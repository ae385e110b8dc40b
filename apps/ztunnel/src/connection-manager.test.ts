// A pod proxy's scoped tracker: its connections are the process's too (policy re-checks, drain, /config_dump),
// while the pod can drain its own; a connection closed from both sides is closed once.
import { describe, expect, it } from 'vitest';
import type { CloseReason } from '@ambient-ts/proxy-core';
import { ConnectionManager, type ConnectionInfo } from './connection-manager.ts';

const info = (localWorkload: string): ConnectionInfo => ({
  direction: 'inbound',
  source: '10.0.2.2:4000',
  destination: '10.0.2.3:8080',
  localWorkload,
});

describe('ConnectionManager.scoped', () => {
  it('tracks in both, closes only its own, and closes each connection once', async () => {
    const all = new ConnectionManager();
    const podA = all.scoped();
    const podB = all.scoped();
    const closed: { uid: string; reason: CloseReason }[] = [];
    const track = (tracker: ConnectionManager, uid: string) =>
      tracker.register(info(uid), (reason) => closed.push({ uid, reason }));
    const endA = track(podA, 'a');
    track(podB, 'b');
    expect(all.list().map((connection) => connection.localWorkload)).toEqual(['a', 'b']);
    expect(podA.size).toBe(1);

    // The pod drains its own: b is untouched.
    expect(podA.closeAll({ kind: 'drain', message: 'pod deleted' })).toBe(1);
    expect(closed).toEqual([{ uid: 'a', reason: { kind: 'drain', message: 'pod deleted' } }]);
    // Closed again from the process-wide tracker: not closed twice.
    all.closeAll({ kind: 'drain', message: 'shutdown' }, (connection) => connection.localWorkload === 'a');
    expect(closed.filter((entry) => entry.uid === 'a')).toHaveLength(1);

    // Ending it unregisters it from both.
    const idle = podA.whenIdle();
    endA();
    await idle;
    expect(all.list().map((connection) => connection.localWorkload)).toEqual(['b']);
  });
});
