import { expect, it } from 'vitest';
import { captureSupport } from './capture-support.ts';

it('reports what @ambient-ts/netns reports about this machine, with a reason when unavailable', async () => {
  const { netnsSupport } = await import('@ambient-ts/netns');
  const support = await captureSupport();
  expect(support).toEqual(netnsSupport());
  if (!support.available) expect(support.reason).toMatch(/\S/);
});
