import { expect, it } from 'vitest';
import { captureSupport, captureUnavailableMessage } from './capture-support.ts';

const root = process.platform === 'linux' && process.getuid?.() === 0;

it('says capture works where the helper is built and SO_MARK can be set, and why not elsewhere', async () => {
  const { netnsSupport } = await import('@ambient-ts/netns');
  const support = await captureSupport();
  if (!netnsSupport().available) expect(support).toEqual(netnsSupport());
  else if (root)
    expect(support).toMatchObject({ available: true, netns: { originalDestination: expect.any(Function) } });
  else expect(support).toMatchObject({ available: false, reason: expect.stringMatching(/SO_MARK .*CAP_NET_ADMIN/) });
});

it('names the modes a machine without capture cannot run, and what still runs', () => {
  const message = captureUnavailableMessage('the native addon was not built (no compiler)');
  expect(message).toContain('transparent capture is unavailable on this machine: the native addon was not built');
  expect(message).toMatch(/Unavailable: PROXY_MODE=shared .*PROXY_MODE=dedicated capture on 15001/);
  expect(message).toMatch(/Still available: PROXY_MODE=node, and PROXY_MODE=dedicated through SOCKS5/);
});
