import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tokenSource } from './token.ts';

it('reads a token file afresh on every call, falls back to a literal, and treats a missing default file as none', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'token-')), 'istio-token');
  writeFileSync(file, 'first\n');
  const fromFile = tokenSource(file);
  expect(fromFile()).toBe('first');
  writeFileSync(file, 'rotated');
  expect(fromFile()).toBe('rotated');
  expect(tokenSource('eyJ.literal.token')()).toBe('eyJ.literal.token');
  expect(tokenSource('./var/run/secrets/tokens/istio-token')()).toBeUndefined();
});
