// Which mode `npm start` runs in: netns where it can run, loopback otherwise, and --mode to choose.
import { expect, it } from 'vitest';
import { chooseMode, netnsMissing } from '../src/mode.ts';

it('picks netns exactly when nothing it needs is missing, and says why', async () => {
  const missing = await netnsMissing();
  const choice = await chooseMode(undefined);
  if (missing.length === 0) expect(choice).toEqual({ mode: 'netns', reason: 'root on Linux' });
  else expect(choice).toEqual({ mode: 'loopback', reason: `netns mode needs ${missing.join(', ')}` });
  if (process.getuid?.() !== 0) expect(missing).toContain('root');
});

it('--mode loopback always works; --mode netns names what is missing; anything else is refused', async () => {
  expect(await chooseMode('loopback')).toEqual({ mode: 'loopback', reason: 'chosen with --mode loopback' });
  const missing = await netnsMissing();
  if (missing.length === 0) expect((await chooseMode('netns')).mode).toBe('netns');
  else await expect(chooseMode('netns')).rejects.toThrow(`--mode netns needs ${missing.join(', ')}`);
  await expect(chooseMode('namespaces')).rejects.toThrow('--mode must be loopback or netns, got "namespaces"');
});
