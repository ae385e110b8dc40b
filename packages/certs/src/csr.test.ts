// The client's check of the identities it asks certificates for.
import { describe, expect, it } from 'vitest';
import { checkIdentity } from './csr.ts';

const id = 'spiffe://cluster.local/ns/default/sa/web';

describe('checkIdentity', () => {
  it('refuses identities that are not workload SPIFFE IDs', () => {
    expect(checkIdentity(id)).toBe(id);
    expect(() => checkIdentity('spiffe://cluster.local')).toThrow(
      expect.objectContaining({ name: 'CertsError', code: 'IDENTITY_INVALID' }),
    );
    expect(() => checkIdentity('https://cluster.local/ns/a/sa/b')).toThrow(
      expect.objectContaining({ name: 'CertsError', code: 'IDENTITY_INVALID' }),
    );
    expect(() => checkIdentity('spiffe://Cluster.local/ns/a/sa/b')).toThrow(
      expect.objectContaining({ name: 'CertsError', code: 'IDENTITY_INVALID' }),
    );
  });
});
