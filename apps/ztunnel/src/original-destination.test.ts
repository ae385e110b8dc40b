// In-pod capture's original destination: the netfilter record as the helper reads it, IPv4-mapped addresses
// of dual-stack listeners unmapped, and a failed read turned into a refusal that says why.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Workload } from '@ambient-ts/discovery';
import { inpodOriginalDestination } from './original-destination.ts';

const socket = {} as Socket;
const workload = {} as Workload;

describe('inpodOriginalDestination', () => {
  it('answers what SO_ORIGINAL_DST said, unmapping ::ffff:a.b.c.d', () => {
    const lookup = inpodOriginalDestination(() => ({ address: '::ffff:10.0.2.3', port: 8080 }));
    expect(lookup.lookup(socket, workload)).toEqual({ ok: true, ip: '10.0.2.3', port: 8080 });
  });

  it('refuses, saying why, when the original destination cannot be read', () => {
    const lookup = inpodOriginalDestination(() => {
      throw new Error('original destination: ENOENT');
    });
    expect(lookup.lookup(socket, workload)).toEqual({
      ok: false,
      error: 'cannot read the original destination: original destination: ENOENT',
    });
  });
});
