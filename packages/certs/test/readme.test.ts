// The README example must run as written and print what the README says it prints.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';

it('README example issues, rotates, and shows a refusal', async () => {
  const out = await runReadmeExample(join(import.meta.dirname, '..'));
  const lines = out.trim().split('\n');
  expect(lines).toHaveLength(5);
  expect(lines[0]).toMatch(/^certificate for spiffe:\/\/cluster\.local\/ns\/default\/sa\/web until \S+Z$/);
  expect(lines[1]).toBe('same object until rotation: true');
  expect(lines[2]).toMatch(/^certificate for spiffe:\/\/cluster\.local\/ns\/default\/sa\/web until \S+Z$/);
  expect(lines.slice(3)).toEqual(['rotated: true Available', 'CA_PERMISSION_DENIED DENIED_NOT_ON_NODE']);
});
