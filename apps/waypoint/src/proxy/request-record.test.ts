import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { toWorkload } from '@ambient-ts/discovery';
import { describe, expect, it } from 'vitest';
import type { RequestReport } from '../telemetry/reporter.ts';
import { upstreamTarget } from '../upstream/endpoints.ts';
import { closeRecord, openRecord, requestReport } from './request-record.ts';
import type { TunnelContext } from './tunnel.ts';

const pod = toWorkload({ uid: 'pod', name: 'pod', namespace: 'default', network: '' });

function tunnel(remote: { address: string; port: number }): TunnelContext {
  return {
    id: 1,
    peerIdentity: 'spiffe://cluster.local/ns/default/sa/client',
    remote: { ...remote, family: remote.address.includes(':') ? 6 : 4 } as TunnelContext['remote'],
    authority: '[fd00::5]:8080',
    target: { kind: 'workload', workload: pod, port: 8080, ip: 'fd00::5' },
    startedAt: Date.now(),
    mode: 'http1',
    inflight: 0,
  };
}

function request(): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/x?y=1';
  req.httpVersion = '1.1';
  req.headers = { host: 'echo', 'user-agent': 'test' };
  return { req, res: new ServerResponse(req) };
}

const outcome = { status: 200, flags: '-', details: 'via_upstream', responseBytes: 10 };

describe('the request record', () => {
  it('formats IPv6 addresses with brackets in the report', () => {
    const { req, res } = request();
    const record = openRecord(req, res, tunnel({ address: '::1', port: 40000 }));
    const report = requestReport(record, { ...outcome, upstream: upstreamTarget(pod, 'fd00::5', 8080) });
    expect(report).toMatchObject({
      downstreamRemote: '[::1]:40000',
      downstreamLocal: '[fd00::5]:8080',
      upstreamHost: '[fd00::5]:8080',
      headers: { authority: 'echo', userAgent: 'test' },
      path: '/x?y=1',
    });
  });

  it('counts in its tunnel from open to close, and closes once however often it is closed', () => {
    const { req, res } = request();
    const context = tunnel({ address: '10.0.0.1', port: 1 });
    const record = openRecord(req, res, context);
    expect(context.inflight).toBe(1);
    const reports: RequestReport[] = [];
    const hooks = { report: (r: RequestReport) => reports.push(r), reportFailed: () => {}, draining: () => false };
    closeRecord(record, outcome, hooks);
    closeRecord(record, { ...outcome, status: 500 }, hooks);
    expect(context.inflight).toBe(0);
    expect(reports.map((r) => r.status)).toEqual([200]);
  });

  it('a throwing sink is told about, and the record is still closed exactly once', () => {
    const { req, res } = request();
    const context = tunnel({ address: '10.0.0.1', port: 1 });
    let closedIdle = 0;
    context.closeIdle = () => closedIdle++;
    const record = openRecord(req, res, context);
    let calls = 0;
    const failures: unknown[] = [];
    const hooks = {
      report: () => {
        calls++;
        throw new Error('sink down');
      },
      reportFailed: (error: unknown) => failures.push(error),
      draining: () => true,
    };
    expect(() => closeRecord(record, outcome, hooks)).not.toThrow();
    expect(() => closeRecord(record, outcome, hooks)).not.toThrow();
    expect({ calls, inflight: context.inflight, closedIdle, failures: failures.length }).toEqual({
      calls: 1,
      inflight: 0,
      closedIdle: 1,
      failures: 1,
    });
  });
});
