import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BindError } from '@ambient-ts/runtime';
import { OperatorSurface } from '../src/index.ts';

const loopback = { host: '127.0.0.1', port: 0 };
const addresses = { adminAddress: loopback, statsAddress: loopback, readinessAddress: loopback };

describe('OperatorSurface', () => {
  it('serves admin, metrics and readiness where asked, and closes them', async () => {
    const out = new PassThrough();
    const surface = new OperatorSurface({
      component: 'ztunnel',
      version: '1.2.3',
      logging: { level: 'info', format: 'json' },
      logDestination: out,
    });
    let quits = 0;
    surface.readiness.register('proxy');
    await surface.listen(addresses, { configDump: () => ({ hello: 'dump' }), quit: () => quits++ });
    const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
    expect((await fetch(url(surface.ports.readiness, '/healthz/ready'))).status).toBe(500);
    surface.readiness.complete('proxy');
    expect((await fetch(url(surface.ports.readiness, '/healthz/ready'))).status).toBe(200);
    expect(await (await fetch(url(surface.ports.admin, '/config_dump'))).json()).toEqual({ hello: 'dump' });
    expect(await (await fetch(url(surface.ports.stats, '/metrics'))).text()).toMatch(
      /istio_build\{[^}]*component="ztunnel"/,
    );
    expect((await fetch(url(surface.ports.admin, '/quitquitquit'), { method: 'POST' })).status).toBe(200);
    expect(quits).toBe(1);
    await surface.close();
    await expect(fetch(url(surface.ports.admin, '/config_dump'))).rejects.toThrow();
  });

  it('a taken port fails with a BindError naming the role', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    const port = (holder.address() as { port: number }).port;
    const surface = new OperatorSurface({
      component: 'waypoint',
      version: '0',
      logging: { level: 'info', format: 'json' },
      logDestination: new PassThrough(),
    });
    const error = await surface
      .listen({ ...addresses, statsAddress: { host: '127.0.0.1', port } }, { configDump: () => ({}), quit: () => {} })
      .catch((caught) => caught);
    holder.close();
    await surface.close();
    expect(BindError.isBindError(error)).toBe(true);
    expect((error as BindError).role).toBe('metrics');
  });
});
