// ZDS bytes written by hand from the facts §9.1 table, so the .proto's field numbers are checked against the
// table rather than against themselves.
import { describe, expect, it } from 'vitest';
import {
  decodeWorkloadRequest,
  decodeWorkloadResponse,
  decodeZdsHello,
  encodeWorkloadRequest,
  encodeWorkloadResponse,
  encodeZdsHello,
} from './zds.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/ /g, ''), 'hex'));
const str = (text: string) => Buffer.from(text).toString('hex');

describe('ZDS wire format (istio.workload.zds)', () => {
  it('ZdsHello{version: V1} is field 1 = 1', () => {
    expect(hex(encodeZdsHello({ version: 'V1' }))).toBe('0801');
    expect(decodeZdsHello(fromHex('0801'))).toEqual({ version: 'V1' });
  });

  it('WorkloadRequest.add (1) carries AddWorkload{1 uid, 2 workload_info{1 name, 2 namespace, 3 service_account}}', () => {
    const info = `0a01${str('n')} 1202${str('ns')} 1a02${str('sa')}`;
    const add = `0a03${str('pod')} 120b${info}`;
    const bytes = `0a12${add}`;
    const request = { add: { uid: 'pod', workloadInfo: { name: 'n', namespace: 'ns', serviceAccount: 'sa' } } };
    expect(hex(encodeWorkloadRequest(request))).toBe(bytes.replace(/ /g, ''));
    expect(decodeWorkloadRequest(fromHex(bytes))).toEqual(request);
  });

  it('WorkloadRequest.del (2) carries DelWorkload whose uid is field 2', () => {
    expect(hex(encodeWorkloadRequest({ del: { uid: 'pod' } }))).toBe(`1205 1203${str('pod')}`.replace(/ /g, ''));
    expect(decodeWorkloadRequest(fromHex(`1205 1203${str('pod')}`))).toEqual({ del: { uid: 'pod' } });
  });

  it('WorkloadRequest.snapshot_sent (3) is an empty message, keep (5) carries KeepWorkload{1 uid}', () => {
    expect(hex(encodeWorkloadRequest({ snapshotSent: {} }))).toBe('1a00');
    expect(decodeWorkloadRequest(fromHex('1a00'))).toEqual({ snapshotSent: {} });
    expect(hex(encodeWorkloadRequest({ keep: { uid: 'pod' } }))).toBe(`2a05 0a03${str('pod')}`.replace(/ /g, ''));
    expect(decodeWorkloadRequest(fromHex(`2a05 0a03${str('pod')}`))).toEqual({ keep: { uid: 'pod' } });
  });

  it('the reserved trust_domain (4) of WorkloadInfo is skipped like any unknown field', () => {
    expect(decodeWorkloadRequest(fromHex(`0a07 0a01${str('p')} 1202 2200`))).toEqual({
      add: { uid: 'p', workloadInfo: {} },
    });
  });

  it('WorkloadResponse.ack (1) is Ack{1 error}: empty is an ACK, text a NACK', () => {
    expect(hex(encodeWorkloadResponse({ ack: {} }))).toBe('0a00');
    expect(hex(encodeWorkloadResponse({ ack: { error: 'bad' } }))).toBe(`0a05 0a03${str('bad')}`.replace(/ /g, ''));
    expect(decodeWorkloadResponse(fromHex(`0a05 0a03${str('bad')}`))).toEqual({ ack: { error: 'bad' } });
  });

  it('bytes that are not a WorkloadRequest fail with CODEC_DECODE_FAILED naming the message', () => {
    expect(() => decodeWorkloadRequest(fromHex('0a05ff'))).toThrow(
      expect.objectContaining({ code: 'CODEC_DECODE_FAILED', message: expect.stringContaining('WorkloadRequest') }),
    );
  });
});
