import { describe, expect, it } from 'vitest';
import { ConnectionManager } from './connection-manager.ts';
import { Lifecycle, type DrainSteps, type LifecycleState } from '@ambient-ts/runtime';

function steps(manager: ConnectionManager, log: string[]): DrainSteps {
  return {
    stopAccepting: async () => void log.push('stop accepting'),
    goAway: async () => void log.push('goaway'),
    idle: () => manager.whenIdle(),
    forceClose: (message) => manager.closeAll({ kind: 'drain', message }),
    shutdown: async () => void log.push('shutdown'),
  };
}

describe('Lifecycle + ConnectionManager', () => {
  it('drain waits for open connections to finish', async () => {
    const manager = new ConnectionManager();
    const done = manager.register(
      { direction: 'inbound', source: 'a', destination: 'b', localWorkload: 'w' },
      () => {},
    );
    const lifecycle = new Lifecycle();
    const states: string[] = [];
    lifecycle.onChange((state) => states.push(state.state));
    lifecycle.running();
    const log: string[] = [];
    const drained = lifecycle.drain(10_000, steps(manager, log));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lifecycle.current.state).toBe('draining');
    done();
    expect(await drained).toEqual({ state: 'stopped', forced: 0 });
    expect(log).toEqual(['stop accepting', 'goaway', 'shutdown']);
    expect(states).toEqual(['running', 'draining', 'stopped']);
    expect(await lifecycle.drain(1, steps(manager, log))).toEqual({ state: 'stopped', forced: 0 }); // idempotent
  });

  it('forces connections closed at the deadline', async () => {
    const manager = new ConnectionManager();
    const reasons: string[] = [];
    const unregister: (() => void)[] = [];
    for (let index = 0; index < 2; index++) {
      unregister.push(
        manager.register({ direction: 'outbound', source: 'a', destination: 'b', localWorkload: 'w' }, (reason) =>
          reasons.push(`${reason.kind}: ${reason.message}`),
        ),
      );
    }
    const result: LifecycleState = await new Lifecycle().drain(30, steps(manager, []));
    expect(result).toEqual({ state: 'stopped', forced: 2 });
    expect(reasons).toEqual([
      'drain: connection closed due to connection drain',
      'drain: connection closed due to connection drain',
    ]);
  });

  it('recheck closes only inbound connections the new policy denies', () => {
    const manager = new ConnectionManager();
    const closed: string[] = [];
    const policy = (ip: string) => ({ sourceIp: ip, destinationIp: '10.0.0.1', destinationPort: 80 });
    manager.register(
      { direction: 'inbound', source: 'allowed', destination: 'x', localWorkload: 'w', policy: policy('1.1.1.1') },
      () => closed.push('allowed'),
    );
    manager.register(
      { direction: 'inbound', source: 'denied', destination: 'x', localWorkload: 'w', policy: policy('2.2.2.2') },
      (reason) => closed.push(`denied: ${reason.kind}: ${reason.message}`),
    );
    manager.register({ direction: 'outbound', source: 'out', destination: 'x', localWorkload: 'w' }, () =>
      closed.push('outbound'),
    );
    const result = manager.recheck((connection) =>
      connection.policy?.sourceIp === '2.2.2.2'
        ? { allowed: false, reason: 'explicitly denied by: ns/p' }
        : { allowed: true, reason: '' },
    );
    expect(result.map((entry) => entry.connection.source)).toEqual(['denied']);
    expect(closed).toEqual(['denied: policy: explicitly denied by: ns/p']);
    expect(manager.size).toBe(3); // closing is the owner's job; it unregisters when the socket ends
  });
});
