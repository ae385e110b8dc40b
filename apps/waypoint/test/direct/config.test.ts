// Configuration robustness and the operator surface: a bad L7 object is rejected (NACK naming object and
// field) while the last good config keeps serving, a broken new policy fails safe, removals take effect,
// static config from LOCAL_XDS, /config_dump, /logging, readiness, and drain with a request in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { Waypoint } from '../../src/waypoint.ts';
import { TestEnv } from '../helpers/env.ts';
import { l7, service, serviceParent, serviceTarget, workload } from '../helpers/resources.ts';

let env: TestEnv;
const echo = '10.7.5.1:80';
const toV2 = l7('HTTPRoute', 'r', {
  parentRefs: [serviceParent('echo')],
  rules: [{ backendRefs: [{ name: 'echo-v2', port: 80 }] }],
});

beforeAll(async () => {
  env = await TestEnv.create('127.7.5');
  await env.backend('echo-v1', '127.7.5.11', { sa: 'echo' });
  await env.backend('echo-v2', '127.7.5.12', { sa: 'echo' });
  env.push(
    [
      service({ name: 'echo', vip: '10.7.5.1', ports: [{ port: 80, targetPort: 8080 }] }),
      service({ name: 'echo-v2', vip: '10.7.5.3', ports: [{ port: 80, targetPort: 8080 }], waypoint: false }),
      workload({ name: 'echo-v1', ip: '127.7.5.11', sa: 'echo', services: { echo: [[80, 8080]] } }),
      workload({ name: 'echo-v2', ip: '127.7.5.12', sa: 'echo', services: { 'echo-v2': [[80, 8080]] } }),
    ],
    [toV2],
  );
  await env.startWaypoint();
});
afterAll(() => env?.close());

describe('bad L7 objects', () => {
  it('rejects a bad update naming object and field, and keeps serving the last good version', async () => {
    expect((await env.request({ authority: echo })).echo?.name).toBe('echo-v2');
    const bad = l7('HTTPRoute', 'r', {
      parentRefs: [serviceParent('echo')],
      rules: [{ matches: [{ path: { type: 'Bogus', value: '/' } }], backendRefs: [{ name: 'echo-v1', port: 80 }] }],
    });
    env.push([], [bad]);
    const nacks = await env.eventually(
      () => env.nacks,
      (list) => list.some((m) => m.includes('HTTPRoute default/r')),
    );
    expect(nacks.join('\n')).toContain(
      'HTTPRoute default/r: spec.rules[0].matches[0].path.type: must be Exact, PathPrefix or RegularExpression, found "Bogus"',
    );
    for (let i = 0; i < 3; i++) expect((await env.request({ authority: echo })).echo?.name).toBe('echo-v2');
    const dump = (await (await env.admin('/config_dump')).json()) as {
      l7: { rejected: { name: string; reason: string }[] };
    };
    expect(dump.l7.rejected).toEqual([
      { name: 'HTTPRoute/default/r', reason: expect.stringContaining('spec.rules[0].matches[0].path.type') },
    ]);
  });

  it('enforces a broken new ALLOW policy as allow-nothing, and the fixed one once it arrives', async () => {
    await env.pushAndWait(
      [],
      [l7('AuthorizationPolicy', 'broken', { targetRefs: [serviceTarget('echo')], rules: 'not-a-list' })],
    );
    expect(env.nacks.join('\n')).toContain('AuthorizationPolicy default/broken: spec.rules');
    expect((await env.request({ authority: echo })).status).toBe(403);
    await env.pushAndWait(
      [],
      [l7('AuthorizationPolicy', 'broken', { targetRefs: [serviceTarget('echo')], rules: [{}] })],
    );
    expect((await env.request({ authority: echo })).status).toBe(200);
  });

  it('rejects kinds it does not know', async () => {
    env.push(
      [],
      [
        {
          name: 'VirtualService/default/vs',
          json: { kind: 'VirtualService', metadata: { name: 'vs', namespace: 'default' }, spec: {} },
        },
      ],
    );
    const nacks = await env.eventually(
      () => env.nacks,
      (list) => list.some((m) => m.includes('VirtualService')),
    );
    expect(nacks.join('\n')).toContain('unsupported kind "VirtualService"');
  });

  it('falls back to the Service itself once the route is removed', async () => {
    await env.pushAndWait([], [], ['HTTPRoute/default/r']);
    expect((await env.request({ authority: echo })).echo?.name).toBe('echo-v1');
  });
});

describe('operator surface', () => {
  it('/config_dump shows identity, bound services with their routes, and policies', async () => {
    await env.pushAndWait([], [toV2]);
    const dump = (await (await env.admin('/config_dump')).json()) as Record<string, unknown> & {
      certificates: Record<string, unknown>[];
    };
    expect(dump['waypoint']).toMatchObject({
      gateway: 'default/waypoint',
      identity: 'spiffe://cluster.local/ns/default/sa/waypoint',
      address: '127.7.5.1:15008',
      state: 'running',
    });
    expect(dump['services']).toEqual([
      {
        name: 'default/echo.default.svc.cluster.local',
        vips: ['/10.7.5.1'],
        ports: [{ servicePort: 80, targetPort: 8080, appProtocol: 'UNKNOWN', routes: ['default/r'] }],
      },
    ]);
    expect(dump['policies']).toContainEqual(expect.objectContaining({ name: 'default/broken', action: 'ALLOW' }));
    expect(dump['certificates'][0]).toMatchObject({
      identity: 'spiffe://cluster.local/ns/default/sa/waypoint',
      state: 'Available',
    });
  });

  it('/logging changes levels at run time', async () => {
    const response = await env.admin('/logging?level=access:debug', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('access');
  });
});

describe('static config', () => {
  it('serves from LOCAL_XDS: ztunnel LocalConfig plus Kubernetes L7 documents', async () => {
    const local = `
services:
- name: echo
  namespace: default
  hostname: echo.default.svc.cluster.local
  vips: [/10.7.5.101]
  ports: {80: 8080}
  waypoint: {destination: default/waypoint.default.svc.cluster.local, hboneMtlsPort: 15008}
workloads:
- uid: echo-v1
  name: echo-v1
  namespace: default
  trustDomain: cluster.local
  serviceAccount: echo
  workloadIps: [127.7.5.11]
  protocol: HBONE
  services: {default/echo.default.svc.cluster.local: {80: 8080}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: only-static, namespace: default}
spec:
  parentRefs: [{group: '', kind: Service, name: echo}]
  rules:
  - matches: [{path: {type: Exact, value: /static}}]
    backendRefs: [{name: echo, port: 80}]
`;
    const waypoint = await Waypoint.start(
      parseConfig({
        INSTANCE_IP: '127.7.5.2',
        POD_NAMESPACE: 'default',
        GATEWAY_NAME: 'waypoint',
        XDS_ADDRESS: '',
        LOCAL_XDS: local,
        FAKE_CA: 'true',
        ADMIN_ADDR: '127.0.0.1:0',
        STATS_ADDR: '127.0.0.1:0',
        READINESS_ADDR: '127.0.0.1:0',
        RUST_LOG: 'off',
      }),
      { caClient: env.ca },
    );
    try {
      const to = { authority: '10.7.5.101:80', waypointIp: '127.7.5.2' };
      expect((await env.request({ ...to, path: '/static' })).echo?.name).toBe('echo-v1');
      expect((await env.request({ ...to, path: '/dynamic' })).status).toBe(404);
    } finally {
      await waypoint.drain(100);
    }
  });
});

describe('drain', () => {
  it('finishes the request in flight, refuses new tunnels, and stops', async () => {
    const slow = env.request({ authority: echo, path: '/slow' });
    await env.eventually(
      () => env.waypoint.configDump()['tunnels'] as unknown[],
      (t) => t.length > 0,
    );
    const drained = env.waypoint.drain(5000);
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.headers['connection']).toBe('close');
    expect(await drained).toEqual({ state: 'stopped', forced: 0 });
    await expect(env.request({ authority: echo })).rejects.toThrow();
    expect(env.logs().some((l) => l['message'] === 'waypoint stopped')).toBe(true);
  });
});
